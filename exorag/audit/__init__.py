"""The citation audit: review sentences checked against the papers they cite (``exorag audit``)."""

from exorag.audit.core import AUDIT_VERDICTS, PAPER_MISSING, Audit, AuditItem, audit_review, check_claim

__all__ = ["AUDIT_VERDICTS", "PAPER_MISSING", "Audit", "AuditItem", "audit_review", "check_claim"]
