"""Interface wording in French and English; everything else falls back to English."""

from __future__ import annotations

__all__ = ["LANGS", "DEFAULT_LANG", "EXAMPLES", "ui_lang", "t"]

LANGS = ("fr", "en")
DEFAULT_LANG = "en"

# Gradio's example chips show at most 60 characters, then "..."
EXAMPLE_CHARS = 60
EXAMPLES = (
    "Combien de conteneurs la Corée du Nord a-t-elle envoyés ?",
    "Qui a rencontré Kim Jong Un à Pyongyang ?",
    "Pourquoi la Russie se rapproche-t-elle de la Corée du Nord ?",
    "Who met Kim Jong Un in Pyongyang?",
    "How many containers did North Korea send to Russia?",
    "What does North Korea want from Russia in exchange?",
)

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Ask the news articles",
        "intro": "Ask a question in French or English. Every answer quotes the articles and points "
                 "at the exact sentence it comes from.",
        "question": "Question",
        "placeholder": "e.g. Who met Kim Jong Un in Pyongyang?",
        "ask": "Ask",
        "examples": "Example questions",
        "tab_answer": "Answer",
        "tab_passages": "Passages",
        "options": "Options",
        "k": "Number of passages (k)",
        "articles": "Restrict to these articles (none = all)",
        "interface": "Interface language",
        "empty_answer": "Ask a question to see an answer with its sources here.",
        "empty_passages": "Ask a question to list the passages that match it best.",
        "sources": "Sources",
        "related": "Nearest passages — not sources, the articles do not answer the question",
        "open_article": "Open the article at this sentence",
        "open_passage": "Open the article at this passage",
        "score": "search score",
        "confidence": "confidence {pct}%",
        "similarity": "similarity to the sentence",
        "no_date": "no date",
        "source_link": "original page",
        "chars": "characters",
        "answered_in": "Answered in {duration}",
        "no_answer_in": "Searched in {duration}",
        "searched_in": "{count} passages",
        "searched_one": "1 passage",
        "no_passage": "No passage matches this question.",
        "abstained": "No answer",
        "error": "Cannot answer",
        "bad_k": "k, the number of passages, must be a whole number from 1 to {max}, not {k}; send {default} or "
                 "nothing for the default.",
        "answer_label": "Short answer",
        "generate": "Generate a fluent answer",
        "generate_info": "A language model writes the answer in your language; every sentence is checked "
                         "against the sentences it cites; what they do not support is redrafted, withdrawn or "
                         "marked [?].",
        "generate_unavailable": "Not available: this page was started without a language model (whoever runs "
                                "it can add one: python -m ui --gguf default).",
        "stop": "Stop",
        "generating": "Generating…",
        "generating_note": "Draft from the language model, not checked yet: its citations are verified "
                           "when it is complete.",
        "stopped": "Generation stopped. Nothing of the draft was checked, so none of it is shown; "
                   "ask again to see an answer.",
        "generated_label": "Generated answer — each citation checked against its sentence",
        "unsupported": "Not supported by the cited articles",
        "index_notice": "The index and the articles differ",
        "library": "Articles: add or remove",
        "upload_notice": "Uploads are on: anyone who can open this page can add articles to the index and "
                         "remove them.",
        "upload_files": "Article files (.txt, .html, .htm, .jsonl, .csv)",
        "add": "Add to the index",
        "remove": "Remove",
        "remove_choice": "Article file to remove",
        "article_list": "Articles in the index",
        "columns": "Article|Title|Date|Language|Source",
        "no_files": "Choose one or more files first.",
        "no_choice": "Choose the article file to remove first.",
        "too_big": "{name} is {size} MB, over the {limit} MB limit for one upload; split it into smaller files.",
        "busy": "Another update of the index is running; try again when it ends.",
        "checking": "Checking {count} file(s)…",
        "embedding": "Embedding {count} new article(s); questions are still answered from the current index…",
        "added": "Added {count} article(s): {names}. They can be asked about now ({seconds:.1f} s).",
        "removed": "Removed {count} article(s): {names}. The file is kept in {trash} to restore it.",
        "update_failed": "Nothing was changed: {error}",
        "left_out": "{count} left out, e.g.: {reason}",
    },
    "fr": {
        "title": "Interroger les articles",
        "intro": "Posez une question en français ou en anglais. Chaque réponse cite les articles et "
                 "renvoie à la phrase exacte d’où elle vient.",
        "question": "Question",
        "placeholder": "p. ex. Qui a rencontré Kim Jong Un à Pyongyang ?",
        "ask": "Demander",
        "examples": "Exemples de questions",
        "tab_answer": "Réponse",
        "tab_passages": "Passages",
        "options": "Options",
        "k": "Nombre de passages (k)",
        "articles": "Limiter à ces articles (aucun = tous)",
        "interface": "Langue de l’interface",
        "empty_answer": "Posez une question : la réponse et ses sources s’afficheront ici.",
        "empty_passages": "Posez une question pour lister les passages qui y correspondent le mieux.",
        "sources": "Sources",
        "related": "Passages les plus proches — pas des sources : les articles ne répondent pas",
        "open_article": "Ouvrir l’article à cette phrase",
        "open_passage": "Ouvrir l’article à ce passage",
        "score": "score de recherche",
        "confidence": "confiance {pct} %",
        "similarity": "similarité avec la phrase",
        "no_date": "sans date",
        "source_link": "page d’origine",
        "chars": "caractères",
        "answered_in": "Réponse en {duration}",
        "no_answer_in": "Recherche en {duration}",
        "searched_in": "{count} passages",
        "searched_one": "1 passage",
        "no_passage": "Aucun passage ne correspond à cette question.",
        "abstained": "Pas de réponse",
        "error": "Impossible de répondre",
        "bad_k": "k, le nombre de passages, doit être un nombre entier de 1 à {max}, pas {k} ; envoyez {default} ou "
                 "rien pour la valeur par défaut.",
        "answer_label": "Réponse courte",
        "generate": "Rédiger une réponse avec un modèle de langue",
        "generate_info": "Un modèle de langue rédige la réponse dans votre langue ; chaque phrase est vérifiée "
                         "contre les phrases qu’elle cite ; ce qu’elles n’étayent pas est réécrit, retiré ou "
                         "marqué [?].",
        "generate_unavailable": "Indisponible : cette page a été lancée sans modèle de langue (qui la fait "
                                "tourner peut en ajouter un : python -m ui --gguf default).",
        "stop": "Arrêter",
        "generating": "Rédaction…",
        "generating_note": "Brouillon du modèle de langue, pas encore vérifié : ses citations sont contrôlées "
                           "quand il est terminé.",
        "stopped": "Rédaction arrêtée. Rien du brouillon n’a été vérifié, donc rien n’en est montré ; "
                   "reposez la question pour obtenir une réponse.",
        "generated_label": "Réponse rédigée — chaque citation vérifiée contre sa phrase",
        "unsupported": "Non étayé par les articles cités",
        "index_notice": "L’index et les articles diffèrent",
        "library": "Articles : ajouter ou retirer",
        "upload_notice": "L’envoi de fichiers est ouvert : toute personne qui peut ouvrir cette page peut "
                         "ajouter des articles à l’index et en retirer.",
        "upload_files": "Fichiers d’articles (.txt, .html, .htm, .jsonl, .csv)",
        "add": "Ajouter à l’index",
        "remove": "Retirer",
        "remove_choice": "Fichier d’article à retirer",
        "article_list": "Articles de l’index",
        "columns": "Article|Titre|Date|Langue|Source",
        "no_files": "Choisissez d’abord un ou plusieurs fichiers.",
        "no_choice": "Choisissez d’abord le fichier d’article à retirer.",
        "too_big": "{name} fait {size} Mo, au-delà de la limite de {limit} Mo par envoi ; découpez-le en fichiers "
                   "plus petits.",
        "busy": "Une autre mise à jour de l’index est en cours ; réessayez quand elle sera finie.",
        "checking": "Vérification de {count} fichier(s)…",
        "embedding": "Encodage de {count} nouvel(s) article(s) ; les questions sont toujours traitées avec "
                     "l’index actuel…",
        "added": "{count} article(s) ajouté(s) : {names}. On peut les interroger dès maintenant ({seconds:.1f} s).",
        "removed": "{count} article(s) retiré(s) : {names}. Le fichier est gardé dans {trash} pour le restaurer.",
        "update_failed": "Rien n’a été changé : {error}",
        "left_out": "{count} laissé(s) de côté, par exemple : {reason}",
    },
}


def ui_lang(lang: str | None, fallback: str = DEFAULT_LANG) -> str:
    """The interface language for an ISO code: itself when supported, else `fallback`."""
    return lang if lang in LANGS else (fallback if fallback in LANGS else DEFAULT_LANG)


def t(lang: str, key: str, **values: object) -> str:
    """The label `key` in `lang` (English when `lang` is not supported), formatted with `values`."""
    text = _LABELS[ui_lang(lang)][key]
    return text.format(**values) if values else text
