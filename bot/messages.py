"""Every sentence the assistant itself says to a citizen, in English and French."""

from __future__ import annotations

CATALOG: dict[str, dict[str, str]] = {
    "did_you_mean": {
        "en": "I'm not sure I understood. Did you mean:",
        "fr": "Je ne suis pas certain d'avoir compris. Vouliez-vous dire :",
    },
    "pick_hint": {
        "en": "Reply with a number, or rephrase your question.",
        "fr": "Répondez par un numéro, ou reformulez votre question.",
    },
    "next_candidates": {
        "en": "Sorry about that. Is it one of these?",
        "fr": "Désolé. Est-ce l'une de ces questions?",
    },
    "no_answer_offer_person": {
        "en": "I'm sorry, I don't have a reliable answer to that. Would you like to reach a person?",
        "fr": "Désolé, je n'ai pas de réponse fiable à cette question. Voulez-vous joindre une personne?",
    },
    "offer_person": {
        "en": "I'm sorry I couldn't help. Would you like to reach a person?",
        "fr": "Désolé de ne pas avoir pu vous aider. Voulez-vous joindre une personne?",
    },
    "source": {"en": "Source: {url}", "fr": "Source : {url}"},
    "handoff_agency": {
        "en": "You can reach a person at {agency} by phone at {phone} ({hours}), or online: {url}",
        "fr": "Vous pouvez joindre une personne à {agency} par téléphone au {phone} ({hours}), "
        "ou en ligne : {url}",
    },
    "handoff_all": {
        "en": "You can reach a person at one of these services:",
        "fr": "Vous pouvez joindre une personne à l'un de ces services :",
    },
    "unsupported_language": {
        "en": "Sorry, I can only answer in English or French. / "
        "Désolé, je ne peux répondre qu'en anglais ou en français.",
        "fr": "Désolé, je ne peux répondre qu'en anglais ou en français. / "
        "Sorry, I can only answer in English or French.",
    },
    "empty_message": {
        "en": "It looks like your message was empty. What would you like to know?",
        "fr": "Votre message semble vide. Que voulez-vous savoir?",
    },
    "too_long": {
        "en": "Your message is too long ({limit} characters at most). Please ask a shorter question.",
        "fr": "Votre message est trop long ({limit} caractères au maximum). Posez une question plus courte.",
    },
    "engine_unavailable": {
        "en": "The service is briefly unavailable. I have your message and will answer as soon as it is back.",
        "fr": "Le service est momentanément indisponible. J'ai bien reçu votre message et j'y répondrai "
        "dès son retour.",
    },
    "sms_stop": {
        "en": "{service}: you will receive no more messages. Text START to resume.",
        "fr": "{service} : vous ne recevrez plus de messages. Textez DEBUT pour reprendre.",
    },
    "sms_start": {
        "en": "{service}: messages resumed. Ask your question any time. Text STOP to stop.",
        "fr": "{service} : messages réactivés. Posez votre question quand vous voulez. Textez ARRET pour arrêter.",
    },
    "sms_help": {
        "en": "{service}: automated answers from official FAQs. Text your question, or ask for a person. "
        "Text STOP to stop. Msg & data rates may apply.",
        "fr": "{service} : réponses automatisées tirées des FAQ officielles. Textez votre question ou demandez "
        "une personne. Textez ARRET pour arrêter. Des frais de messagerie peuvent s'appliquer.",
    },
    "yes": {"en": "Yes", "fr": "Oui"},
    "no": {"en": "No", "fr": "Non"},
    "none_of_these": {"en": "None of these", "fr": "Aucune de ces réponses"},
}


def say(key: str, language: str | None, **values: object) -> str:
    """The sentence `key` in `language` (English when the language is unknown), filled with `values`."""
    variants = CATALOG[key]
    text = variants.get(language or "en") or variants["en"]
    return text.format(**values) if values else text
