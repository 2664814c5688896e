"""What each operation does: validate, write the change and its events in one transaction, publish after."""
