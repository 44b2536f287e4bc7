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
        "en": "I'm sorry, I don't have a reliable answer to that. Would you like to "
        "reach a person?",
        "fr": "Désolé, je n'ai pas de réponse fiable à cette question. Voulez-vous joindre "
        "une personne?",
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
        "en": "Your message is too long ({limit} characters at most). Please ask a "
        "shorter question.",
        "fr": "Votre message est trop long ({limit} caractères au maximum). Posez une question "
        "plus courte.",
    },
    "slow_down": {
        "en": "You are sending messages very quickly. Please wait a moment before sending more.",
        "fr": "Vous envoyez des messages très rapidement. Veuillez patienter un instant avant "
        "d'en envoyer d'autres.",
    },
    "engine_unavailable": {
        "en": "The service is briefly unavailable. I have your message and will answer as soon as "
        "it is back.",
        "fr": "Le service est momentanément indisponible. J'ai bien reçu votre message et j'y "
        "répondrai dès son retour.",
    },
    "sms_stop": {
        "en": "{service}: you will receive no more messages. Text START to resume.",
        "fr": "{service} : vous ne recevrez plus de messages. Textez DEBUT pour reprendre.",
    },
    "sms_start": {
        "en": "{service}: messages resumed. Ask your question any time. Text STOP to stop.",
        "fr": "{service} : messages réactivés. Posez votre question quand vous voulez. Textez "
        "ARRET pour arrêter.",
    },
    "sms_help": {
        "en": "{service}: automated answers from official FAQs. Text your question, or ask for a "
        "person. Text STOP to stop. Msg & data rates may apply.",
        "fr": "{service} : réponses automatisées tirées des FAQ officielles. Textez votre question "
        "ou demandez une personne. Textez ARRET pour arrêter. Des frais de messagerie "
        "peuvent s'appliquer.",
    },
    "queue_joined": {
        "en": "I'm connecting you with a person at {queue}. You are number {position} in line; the "
        "wait is about {minutes} min. {leave}",
        "fr": "Je vous mets en relation avec une personne de {queue}. Vous êtes numéro {position} "
        "dans la file; l'attente est d'environ {minutes} min. {leave}",
    },
    "queue_update": {
        "en": "Update: you are now number {position} in line; the wait is about {minutes} min.",
        "fr": "Mise à jour : vous êtes maintenant numéro {position} dans la file; l'attente est "
        "d'environ {minutes} min.",
    },
    "queue_next": {
        "en": "You are next in line. A person will be with you shortly.",
        "fr": "Vous êtes le prochain dans la file. Une personne sera avec vous sous peu.",
    },
    "leave_hint": {
        "en": "Reply CANCEL to leave the line.",
        "fr": "Répondez ANNULER pour quitter la file.",
    },
    "leave_hint_sms": {
        "en": "Text LEAVE to leave the line.",
        "fr": "Textez QUITTER pour quitter la file.",
    },
    "queue_left": {
        "en": "You have left the line. I'm here if you have other questions.",
        "fr": "Vous avez quitté la file. Je suis là si vous avez d'autres questions.",
    },
    "agent_joined": {
        "en": "{agent} from {queue} is now with you.",
        "fr": "{agent}, de {queue}, est maintenant avec vous.",
    },
    "agent_lost": {
        "en": "Sorry, the person helping you was disconnected. You are back in line at "
        "number {position}.",
        "fr": "Désolé, la personne qui vous aidait a été déconnectée. Vous êtes de retour dans la "
        "file, numéro {position}.",
    },
    "transferred": {
        "en": "I'm transferring you to {queue}. You keep your place: number {position} in line.",
        "fr": "Je vous transfère à {queue}. Vous gardez votre place : numéro {position} "
        "dans la file.",
    },
    "resolved_rating": {
        "en": "{agent} has closed the conversation; the assistant is back to answer your "
        "questions. How satisfied are you with the help you got? Reply with a number from 1 (not "
        "at all) to 5 (very), and a comment if you like.",
        "fr": "{agent} a fermé la conversation; l'assistant est de retour pour répondre à vos "
        "questions. Êtes-vous satisfait de l'aide reçue? Répondez par un chiffre de 1 (pas du "
        "tout) à 5 (très), et un commentaire si vous le souhaitez.",
    },
    "rating_thanks": {
        "en": "Thank you for your rating. Ask me anything else any time.",
        "fr": "Merci de votre évaluation. Posez-moi d'autres questions quand vous voulez.",
    },
    "abandoned": {
        "en": "Since we have not heard from you, this request is closed. Write again any time to "
        "reach a person.",
        "fr": "Comme nous n'avons pas eu de vos nouvelles, cette demande est fermée. Écrivez-nous "
        "quand vous voulez pour joindre une personne.",
    },
    "after_hours": {
        "en": "{queue} is closed right now; it opens {when}. Write your message now, with a phone "
        "number, and an agent will call you back after it opens. {leave}",
        "fr": "{queue} est fermé en ce moment; ouverture {when}. Écrivez votre message maintenant, "
        "avec un numéro de téléphone, et un agent vous rappellera après l'ouverture. {leave}",
    },
    "after_hours_sms": {
        "en": "{queue} is closed right now; it opens {when}. Text your message now, and an agent "
        "will call you back at this number after it opens. {leave}",
        "fr": "{queue} est fermé en ce moment; ouverture {when}. Textez votre message maintenant, "
        "et un agent vous rappellera à ce numéro après l'ouverture. {leave}",
    },
    "ticket_taken": {
        "en": "Thank you. Your request #{ticket} is recorded; an agent will contact you after "
        "{queue} opens {when}.",
        "fr": "Merci. Votre demande no {ticket} est enregistrée; un agent communiquera avec vous "
        "après l'ouverture de {queue} {when}.",
    },
    "which_service": {
        "en": "I'll connect you with a person. Which service is your question about?",
        "fr": "Je vais vous mettre en relation avec une personne. Votre question concerne "
        "quel service?",
    },
    "connecting": {
        "en": "Sorry I couldn't help. Let me connect you with a person.",
        "fr": "Désolé de ne pas avoir pu vous aider. Je vous mets en relation avec une personne.",
    },
    "helpful_yes": {"en": "That helped", "fr": "Ça m'a aidé"},
    "helpful_no": {"en": "It did not help", "fr": "Ça ne m'a pas aidé"},
    "helpful_ask_sms": {
        "en": "Did this answer help? Reply Y or N.",
        "fr": "Cette réponse vous a-t-elle aidé? Répondez O ou N.",
    },
    "feedback_thanks": {"en": "Thank you for your feedback.", "fr": "Merci de votre commentaire."},
    "yes": {"en": "Yes", "fr": "Oui"},
    "no": {"en": "No", "fr": "Non"},
    "none_of_these": {"en": "None of these", "fr": "Aucune de ces réponses"},
    # Outreach (bot/outreach/): subscriptions to topics
    "subscribe_confirm_sms": {
        "en": "{service}: reply YES to get updates on {topic}. Msg & data rates may apply. "
        "Text UNSUBSCRIBE {slug} to end them, STOP to end all messages.",
        "fr": "{service} : répondez OUI pour recevoir les avis sur : {topic}. Des frais de "
        "messagerie peuvent s'appliquer. Textez DESABONNER {slug} pour y mettre fin, ARRET pour "
        "tout arrêter.",
    },
    "subscribed": {
        "en": "{service}: you are subscribed to {topic}. Text UNSUBSCRIBE {slug} to end it.",
        "fr": "{service} : vous êtes abonné à : {topic}. Textez DESABONNER {slug} pour y mettre "
        "fin.",
    },
    "already_subscribed": {
        "en": "{service}: you already get updates on {topic}.",
        "fr": "{service} : vous recevez déjà les avis sur : {topic}.",
    },
    "unsubscribed": {
        "en": "{service}: you will no longer get updates on {topic}.",
        "fr": "{service} : vous ne recevrez plus les avis sur : {topic}.",
    },
    "unsubscribed_all": {
        "en": "{service}: you will no longer get any updates.",
        "fr": "{service} : vous ne recevrez plus aucun avis.",
    },
    "not_subscribed": {
        "en": "{service}: you were not subscribed to {topic}.",
        "fr": "{service} : vous n'étiez pas abonné à : {topic}.",
    },
    "unknown_topic": {
        "en": '{service}: there is no topic "{slug}". Topics: {topics}. Text SUBSCRIBE and '
        "a topic.",
        "fr": "{service} : il n'y a pas de sujet « {slug} ». Sujets : {topics}. Textez ABONNER "
        "et un sujet.",
    },
    "topics": {
        "en": "{service} updates you can get: {topics}. Text SUBSCRIBE and a topic "
        "(SUBSCRIBE alone: general news).",
        "fr": "{service}, avis offerts : {topics}. Textez ABONNER et un sujet (ABONNER seul : "
        "nouvelles générales).",
    },
    "subscribe_button": {"en": "Subscribe: {topic}", "fr": "M'abonner : {topic}"},
    "no_push": {
        "en": "Updates are sent by text message, Telegram or Messenger: text SUBSCRIBE there. "
        "This web chat cannot reach you later.",
        "fr": "Les avis sont envoyés par texto, Telegram ou Messenger : textez ABONNER sur l'un "
        "d'eux. Ce clavardage ne peut pas vous joindre plus tard.",
    },
    # The citizen panel (bot/panel/, docs/panel.md).
    "panel_consent": {
        "en": "{service} citizen panel: a few short surveys a year about our services, on this "
        "channel. Your answers are kept apart from your questions, results are only shown for "
        "groups of 10 people or more, and LEAVE PANEL deletes your answers at any time. Reply "
        "AGREE to join.",
        "fr": "Panel citoyen de {service} : quelques courts sondages par année, ici. Vos "
        "réponses sont gardées à part de vos questions, les résultats ne sont montrés que par "
        "groupes de 10 personnes ou plus, et QUITTER PANEL efface vos réponses. Répondez ACCEPTE "
        "pour vous joindre.",
    },
    "panel_agree_button": {"en": "I agree", "fr": "J'accepte"},
    "panel_welcome": {
        "en": "Welcome to the panel. Two optional questions help us read results by group "
        "(SKIP to pass).",
        "fr": "Bienvenue au panel. Deux questions facultatives nous aident à lire les résultats "
        "par groupe (PASSER pour ne pas répondre).",
    },
    "panel_profile_done": {
        "en": "Thank you. We will write here when a survey opens. LEAVE PANEL to leave.",
        "fr": "Merci. Nous vous écrirons ici quand un sondage sera ouvert. QUITTER PANEL pour "
        "quitter.",
    },
    "panel_already": {
        "en": "You are already on the panel. LEAVE PANEL to leave.",
        "fr": "Vous faites déjà partie du panel. QUITTER PANEL pour le quitter.",
    },
    "panel_left": {
        "en": "You have left the panel: your profile and answers are deleted.",
        "fr": "Vous avez quitté le panel : votre profil et vos réponses sont effacés.",
    },
    "panel_not_member": {
        "en": "You are not on the citizen panel. Text PANEL to learn more.",
        "fr": "Vous ne faites pas partie du panel citoyen. Textez PANEL CITOYEN pour en savoir "
        "plus.",
    },
    "panel_invite": {
        "en": "{service} citizen panel: {intro}. LATER to pause.",
        "fr": "Panel citoyen de {service} : {intro}. PLUS TARD pour une pause.",
    },
    "panel_reminder": {
        "en": "Reminder: your {service} survey is still open. Here is where you stopped:",
        "fr": "Rappel : votre sondage de {service} est encore ouvert. Voici où vous en étiez :",
    },
    "panel_later": {
        "en": "Paused. Text SURVEY when you want to go on.",
        "fr": "En pause. Textez SONDAGE quand vous voudrez continuer.",
    },
    "panel_no_survey": {
        "en": "No survey is open for you right now.",
        "fr": "Aucun sondage n'est ouvert pour vous en ce moment.",
    },
    "panel_thanks": {
        "en": "Thank you, your answers are in. We will publish what we heard and what we did.",
        "fr": "Merci, nous avons vos réponses. Nous publierons ce que nous avons entendu et ce "
        "que nous avons fait.",
    },
    "panel_hint_single": {"en": "Reply with a number.", "fr": "Répondez par un numéro."},
    "panel_hint_scale": {
        "en": "Reply with a number from 1 (lowest) to 5 (highest).",
        "fr": "Répondez par un chiffre de 1 (le plus bas) à 5 (le plus haut).",
    },
    "panel_hint_skip": {
        "en": "(Optional: SKIP to pass.)",
        "fr": "(Facultatif : PASSER pour ne pas répondre.)",
    },
    "panel_skip_button": {"en": "Skip", "fr": "Passer"},
    "panel_required": {
        "en": "This question needs an answer.",
        "fr": "Cette question demande une réponse.",
    },
    "panel_not_understood": {
        "en": "Sorry, I did not get that answer.",
        "fr": "Désolé, je n'ai pas compris cette réponse.",
    },
}


def say(key: str, language: str | None, **values: object) -> str:
    """The sentence `key` in `language` (English when the language is unknown), filled
    with `values`."""
    variants = CATALOG[key]
    text = variants.get(language or "en") or variants["en"]
    return text.format(**values) if values else text
