"""Seeded generators of synthetic test material (attachments now; the form fixtures live in tests/)."""
