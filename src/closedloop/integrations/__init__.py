"""integrations domain: signed inbound webhooks from ERP, email marketing and ad platforms."""
