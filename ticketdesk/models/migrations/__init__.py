"""The store's schema history (Tortoise migrations)."""
