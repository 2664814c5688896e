"""Realtime delivery: the broker wrapper, the per-process event hub, and the streams behind Subscription.

    mutation commits -> EventHub.publish -> wakes this process's hub and tells the broker "the log grew"
    broker (memory:// or Redis) -> every process's hub -> reads the new rows from the event log
    hub -> each subscriber's Tap -> event_stream filters what its viewer may see and yields it

The broker carries only event numbers; events themselves always come from the log, which is why a
lost, late or repeated broker message can delay an event but never lose, reorder or repeat one.
"""
