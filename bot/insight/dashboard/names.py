"""How the dashboard names agencies and FAQs: from the FAQ bank, whatever the ids in old rows."""

from __future__ import annotations

from bot.knowledge.bank import FaqBank


class Names:
    """The display names of agencies and FAQs, in English."""

    def __init__(self, bank: FaqBank) -> None:
        self.bank = bank
        self.faqs = bank.by_id()

    def agency(self, agency: str | None) -> str:
        """An agency's name, its id when the bank no longer has it, "(none)" without one."""
        if not agency:
            return "(none)"
        found = self.bank.agencies.get(agency)
        return found.display_name("en") if found else agency

    def question(self, faq_id: str) -> str:
        """A FAQ's question, or a note that it has left the bank."""
        faq = self.faqs.get(faq_id)
        return faq.question if faq else "(no longer in the FAQ bank)"

    def faq_agency(self, faq_id: str, default: str = "") -> str:
        """A FAQ's agency, or `default` when it has left the bank."""
        return self.faqs[faq_id].agency if faq_id in self.faqs else default
