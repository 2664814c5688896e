"""What each operation does, knowing nothing of GraphQL.

Queries take the `Viewer` (and the limits they apply); mutations take an `Actor` (the viewer, the settings
and where to publish events), validate their input, write the change and its events in one transaction
(`transaction`), publish after commit, and return the changed objects. A refusal is a raised
`ticketdesk.errors.UserError`; what a viewer may see comes from `ticketdesk.policy`.
"""
