"""The citizen panel: members who agreed to be asked, surveys (EN/FR, skip logic), waves sent to
the panel or a sample, one question at a time on the citizen's channel, and results by profile
group with small groups suppressed (docs/panel.md)."""
