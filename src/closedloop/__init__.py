"""closedloop: one shared record and one set of numbers for marketing and sales."""

__version__ = "0.1.0"
