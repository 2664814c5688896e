from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from ticketdesk.models.enums import Category, EscalationStatus, EventType, Priority, Role, SenderType, Source, Status
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Counter',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('value', fields.BigIntField(default=0)),
            ],
            options={'table': 'counters', 'app': 'models', 'pk_attr': 'name', 'table_description': 'A named sequence, incremented inside the writing transaction, so a rollback leaves no hole.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Principal',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('role', fields.CharEnumField(description='CUSTOMER: CUSTOMER\nAGENT: AGENT\nADMIN: ADMIN\nSERVICE: SERVICE', enum_type=Role, max_length=16)),
                ('name', fields.CharField(null=True, max_length=255)),
                ('email', fields.CharField(null=True, max_length=320)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'principals', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Anyone who has called the API with a valid token, or for whom a service created a ticket.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Ticket',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('number', fields.IntField(unique=True)),
                ('reference', fields.CharField(unique=True, max_length=20)),
                ('customer', fields.ForeignKeyField('models.Principal', source_field='customer_id', db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.RESTRICT)),
                ('subject', fields.CharField(max_length=255)),
                ('description', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=Status.OPEN, db_index=True, description='OPEN: OPEN\nIN_PROGRESS: IN_PROGRESS\nRESOLVED: RESOLVED\nCLOSED: CLOSED\nREOPENED: REOPENED', enum_type=Status, max_length=16)),
                ('priority', fields.CharEnumField(db_index=True, description='LOW: LOW\nMEDIUM: MEDIUM\nHIGH: HIGH\nCRITICAL: CRITICAL', enum_type=Priority, max_length=16)),
                ('category', fields.CharEnumField(db_index=True, description='APP_ERROR: APP_ERROR\nBANKING_ISSUE: BANKING_ISSUE\nACCOUNT_ACCESS: ACCOUNT_ACCESS\nTRANSACTION_ERROR: TRANSACTION_ERROR\nFEATURE_QUESTION: FEATURE_QUESTION\nSECURITY_CONCERN: SECURITY_CONCERN\nOTHER: OTHER', enum_type=Category, max_length=32)),
                ('source', fields.CharEnumField(description='AI_TRANSFER: AI_TRANSFER\nMOBILE: MOBILE\nADMIN: ADMIN\nWEBHOOK: WEBHOOK', enum_type=Source, max_length=16)),
                ('assignee', fields.ForeignKeyField('models.Principal', source_field='assignee_id', null=True, db_constraint=True, to_field='id', related_name='assigned_tickets', on_delete=OnDelete.SET_NULL)),
                ('error_details', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('idempotency_key', fields.CharField(null=True, max_length=255)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(db_index=True, auto_now=True, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'tickets', 'app': 'models', 'unique_together': (('customer', 'idempotency_key'),), 'pk_attr': 'id', 'table_description': "A customer's support request and its current state."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AITransfer',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('ticket', fields.OneToOneField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='ai_transfer', on_delete=OnDelete.CASCADE)),
                ('customer', fields.ForeignKeyField('models.Principal', source_field='customer_id', db_constraint=True, to_field='id', related_name='ai_transfers', on_delete=OnDelete.RESTRICT)),
                ('conversation_id', fields.CharField(max_length=255)),
                ('summary_of_issue', fields.TextField(unique=False)),
                ('suggested_resolution', fields.TextField(null=True, unique=False)),
                ('customer_context', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('conversation_history', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'ai_transfers', 'app': 'models', 'unique_together': (('customer', 'conversation_id'),), 'pk_attr': 'id', 'table_description': 'The AI hand-off record. (customer, conversation id) is unique, which makes the transfer idempotent.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EscalationRequest',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='escalations', on_delete=OnDelete.CASCADE)),
                ('reason', fields.TextField(unique=False)),
                ('target_priority', fields.CharEnumField(description='LOW: LOW\nMEDIUM: MEDIUM\nHIGH: HIGH\nCRITICAL: CRITICAL', enum_type=Priority, max_length=16)),
                ('status', fields.CharEnumField(default=EscalationStatus.PENDING, description='PENDING: PENDING\nAPPROVED: APPROVED\nDENIED: DENIED', enum_type=EscalationStatus, max_length=16)),
                ('requested_by', fields.UUIDField()),
                ('decided_by', fields.ForeignKeyField('models.Principal', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='decided_escalations', on_delete=OnDelete.SET_NULL)),
                ('decision_note', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'escalation_requests', 'app': 'models', 'pk_attr': 'id', 'table_description': "A request to raise a ticket's priority, decided by an admin."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Feedback',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('ticket', fields.OneToOneField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='feedback', on_delete=OnDelete.CASCADE)),
                ('rating', fields.SmallIntField()),
                ('comment', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'feedback', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A 1-5 rating and an optional comment.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Message',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('sender_id', fields.UUIDField(null=True)),
                ('sender_type', fields.CharEnumField(description='CUSTOMER: CUSTOMER\nAGENT: AGENT\nSYSTEM: SYSTEM\nAI: AI', enum_type=SenderType, max_length=16)),
                ('body', fields.TextField(unique=False)),
                ('internal', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('position', fields.IntField(default=0)),
            ],
            options={'table': 'messages', 'app': 'models', 'pk_attr': 'id', 'table_description': "One line of a ticket's conversation. `internal` ones are agents' notes, never shown to customers."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Attachment',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('message', fields.ForeignKeyField('models.Message', source_field='message_id', null=True, db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('url', fields.CharField(max_length=2048)),
                ('filename', fields.CharField(null=True, max_length=255)),
                ('content_type', fields.CharField(null=True, max_length=255)),
                ('size', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'attachments', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A file attached to a ticket (and to one of its messages), stored by URL.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TicketEvent',
            fields=[
                ('seq', fields.BigIntField(primary_key=True, unique=True, db_index=True)),
                ('type', fields.CharEnumField(description='CREATED: CREATED\nUPDATED: UPDATED\nSTATUS_CHANGED: STATUS_CHANGED\nASSIGNED: ASSIGNED\nMESSAGE_ADDED: MESSAGE_ADDED\nNOTE_ADDED: NOTE_ADDED\nESCALATION_REQUESTED: ESCALATION_REQUESTED\nESCALATION_DECIDED: ESCALATION_DECIDED\nFEEDBACK_SUBMITTED: FEEDBACK_SUBMITTED\nATTACHMENT_ADDED: ATTACHMENT_ADDED', enum_type=EventType, max_length=32)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('actor_id', fields.UUIDField(null=True)),
                ('actor_role', fields.CharEnumField(null=True, description='CUSTOMER: CUSTOMER\nAGENT: AGENT\nADMIN: ADMIN\nSERVICE: SERVICE', enum_type=Role, max_length=16)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('from_status', fields.CharEnumField(null=True, description='OPEN: OPEN\nIN_PROGRESS: IN_PROGRESS\nRESOLVED: RESOLVED\nCLOSED: CLOSED\nREOPENED: REOPENED', enum_type=Status, max_length=16)),
                ('to_status', fields.CharEnumField(null=True, description='OPEN: OPEN\nIN_PROGRESS: IN_PROGRESS\nRESOLVED: RESOLVED\nCLOSED: CLOSED\nREOPENED: REOPENED', enum_type=Status, max_length=16)),
                ('message', fields.ForeignKeyField('models.Message', source_field='message_id', null=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('escalation', fields.ForeignKeyField('models.EscalationRequest', source_field='escalation_id', null=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('assignee', fields.ForeignKeyField('models.Principal', source_field='assignee_id', null=True, db_constraint=True, to_field='id', related_name='assignment_events', on_delete=OnDelete.SET_NULL)),
                ('changes', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'ticket_events', 'app': 'models', 'pk_attr': 'seq', 'table_description': 'One recorded change of a ticket.'},
            bases=['Model'],
        ),
    ]
