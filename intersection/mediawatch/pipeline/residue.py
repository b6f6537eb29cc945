"""What outlets add around an article, removed before it is stored.

- a title suffix naming the outlet: "Binche : des inspecteurs… - Hainaut Matin";
- the title repeated as the body's first paragraph (with the section label above it, if any);
- prompts at the start or the end of the body: comments ("Réactions", "Connectez-vous pour
  réagir", "Reageer", "Comments"), sign-in, subscription and paywall notices ("Abonnez-vous",
  "Subscribe to read"), "this article is offered by…", "read also" and newsroom-tip lines,
  in French, Dutch and English.

Only whole short paragraphs at the edges of the text are removed, and only while every one
of them is such a prompt: a sentence that merely starts with "Comments" or mentions the
outlet in the middle of a title stays. Comparisons ignore case, accents and punctuation.
"""

import re
import unicodedata
from collections.abc import Iterable

SEPARATORS = (" - ", " | ", " – ", " — ", " · ")
PROMPT_MAX_WORDS = 25
KICKER_MAX_WORDS = 3
NOT_WORD = re.compile(r"[\W_]+")

# On folded text (lower case, no accents, punctuation as single spaces), whole paragraph.
_COUNT = r"(?: \d+)?"
PROMPTS = re.compile(
    "|".join(
        rf"(?:{pattern})"
        for pattern in (
            # comments and reactions, alone (a heading) or with a count
            rf"(?:\d+ )?(?:reactions?|commentaires?|comments?|reacties?){_COUNT}",
            r"(?:laissez|ajoutez|ecrivez|postez) un commentaire.*",
            r"(?:leave|post|add|write) a (?:comment|reply).*",
            r"soyez le premier a (?:reagir|commenter).*",
            r"be the first to comment.*",
            r"(?:connectez vous|identifiez vous|inscrivez vous|se connecter|je me connecte)"
            r" (?:pour|afin de) (?:reagir|commenter|lire|acceder|poursuivre|continuer).*",
            r"(?:sign|log) (?:in|up)(?: or (?:sign|log) (?:in|up)| or register)? to"
            r" (?:comment|reply|read|continue|keep reading|access|join).*",
            r"(?:log|meld) (?:je |u )?(?:in|aan) om te (?:reageren|lezen|verder lezen).*",
            r"reageer.*",
            # subscription and paywall
            r"(?:abonnez vous|je m abonne|s abonner)(?: .*)?",
            r"(?:cet article|la suite de cet article|ce contenu) est reservee? aux abonnes.*",
            r"(?:article )?reserve aux abonnes.*",
            r"pour (?:lire|consulter) la suite.*",
            r"(?:word abonnee|abonneer (?:je|u)|neem een abonnement|sluit een abonnement).*",
            r"(?:dit|het) artikel is (?:enkel |alleen )?(?:voor|beschikbaar voor) abonnees.*",
            r"(?:subscribe|subscribe now|subscribe today)(?: .*)?",
            r"(?:already a subscriber|become a subscriber|subscribers only).*",
            r"this (?:article|story|content) is (?:for|available to|reserved for) subscribers.*",
            # offered by
            r"cet article vous est offert par.*",
            r"(?:dit|het) artikel wordt (?:u|je) (?:gratis )?aangeboden door.*",
            r"this (?:article|story) is (?:offered|brought|provided)"
            r" (?:to you )?(?:for free )?by.*",
            # read also (a heading, or a heading and the linked title)
            r"(?:a )?lire (?:aussi|egalement)|voir aussi|lees ook|lees meer|read (?:more|also)",
            r"(?:a )?lire (?:aussi|egalement) .{0,160}|lees ook .{0,160}|read also .{0,160}",
            # sharing and newsroom tips
            r"(?:partager|partagez|share|deel)(?: (?:cet article|this article|dit artikel|on))?",
            r"(?:tip|tips) (?:de|onze) redactie.*|une info .{0,40}contactez.*|tip (?:us|the"
            r" newsroom).*|got a (?:news )?tip.*|send us a (?:news )?tip.*",
        )
    )
)


def fold(text: str) -> str:
    """Lower case, accents removed, punctuation and spaces collapsed to one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return NOT_WORD.sub(" ", bare.casefold()).strip()


def clean_title(title: str, outlet_names: Iterable[str]) -> str:
    """The title without a last part (after " - ", " | ", …) that is the outlet's name."""
    names = {fold(name) for name in outlet_names} - {""}
    for separator in SEPARATORS:
        head, found, tail = title.rpartition(separator)
        if found and head.strip() and fold(tail) in names:
            return head.strip()
    return title


def outlet_names(*names: str) -> list[str]:
    """The names an outlet goes by: each given name, and the first part of one that has
    parts ("Hainaut Matin - Toute l'actualité" is also "Hainaut Matin")."""
    found = []
    for name in names:
        found.append(name)
        for separator in SEPARATORS:
            if separator in name:
                found.append(name.split(separator, 1)[0])
    return [name for name in found if name.strip()]


def is_prompt(paragraph: str) -> bool:
    """A short paragraph that is only a comment, sign-in, subscription or sharing prompt."""
    folded = fold(paragraph)
    return (
        bool(folded)
        and len(folded.split()) <= PROMPT_MAX_WORDS
        and PROMPTS.fullmatch(folded) is not None
    )


def _is_kicker(paragraph: str) -> bool:
    """A section label above the title ("Antwerpen", "Policy"): a few words, no sentence."""
    words = paragraph.split()
    return 0 < len(words) <= KICKER_MAX_WORDS and paragraph.rstrip()[-1:] not in ".!?:;"


def clean_text(text: str, titles: Iterable[str]) -> str:
    """The body without the title repeated as its first paragraph (and the section label
    above it), and without prompts at its start or end. Paragraphs are lines."""
    repeated = {fold(title) for title in titles} - {""}
    paragraphs = [line for line in text.split("\n") if line.strip()]
    start, end = 0, len(paragraphs)
    start = _after_prompts(paragraphs, start, end)
    for position in (start, start + 1):  # the title, or a section label and the title
        if position < end and fold(paragraphs[position]) in repeated:
            if position == start or _is_kicker(paragraphs[start]):
                start = _after_prompts(paragraphs, position + 1, end)
            break
    while end > start and is_prompt(paragraphs[end - 1]):
        end -= 1
    if (start, end) == (0, len(paragraphs)):
        return text
    return "\n".join(paragraphs[start:end])


def _after_prompts(paragraphs: list[str], start: int, end: int) -> int:
    while start < end and is_prompt(paragraphs[start]):
        start += 1
    return start
