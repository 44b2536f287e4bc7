"""The knowledge studio: FAQs kept in the database with their versions, who may edit and review
each agency's content, and the published bank every replica serves live."""
