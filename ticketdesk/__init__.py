"""ticketdesk: the support-ticket backend of a mobile banking product, served as GraphQL."""
