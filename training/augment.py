"""Teacher-labelled sentences rewritten by rules whose effect on sentiment is known.

The n-gram teachers cannot read word order, so their labels never teach the LSTM what "not" or
"but" does: an n-gram model meets "not bad" mostly in mixed reviews. Rules, applied to
sentences the sentence teacher is sure of, put that knowledge into the labels instead (rules
through the teacher, after Hu et al., 2016, *Harnessing Deep Neural Networks with Logic Rules*):

- **Negation.** A one-clause sentence negated at its verb reads the other way: "The acting was
  wooden." (negative) becomes "The acting was not wooden." (positive), "You will be bored." becomes
  "You won't be bored.", "I loved it." becomes "I didn't love it." Its label is the teacher's,
  flipped and softened, because negated praise is weaker than a complaint ("not great" is not
  "awful"). Short predicates also give the bare fragments people type: "Not wooden at all."
  Optionally (`negation_quantifiers`, off by default), a sentence whose subject takes a quantifier
  may be negated there instead: "The jokes fell flat." becomes "None of the jokes fell flat.", "The
  plot was dull." becomes "Nothing about the plot was dull.", and a copula may take "hardly" ("The
  plot was hardly dull."): people negate complaints that way, and in reviews "none", "nothing" and
  "hardly" mostly begin one.
  Also optionally (`negation_objects`), a sentence of having, offering, finding and the like, or of
  "there is", may be negated at its object: "The film has many plot holes." becomes "The film has
  no plot holes.", "The film doesn't have a single plot hole." or "Not a single plot hole.", the
  form of "I have no complaints" and "Not a dull moment", which no verb-level negation writes.
  And optionally (`negation_speakers`), a sentence may be denied in a speaker's words around it:
  "The acting was wooden." becomes "I wouldn't say the acting was wooden.", "The story drags."
  becomes "I don't think the story drags.", so that the negation stands several words before what
  it turns, as in "I can't say anything bad about it", where the other forms keep the two together.
- **Contrast.** Two sentences of opposite sign joined so that one clause decides: "A, but B",
  "Although A, B", "B, even though A". The label follows the deciding clause, wherever it stands.
- **Agreement.** Two sentences of the same sign side by side ("A. B.", "A, and B.") keep that sign.
  Without them every two-clause text the model meets turns at its second clause, and it learns
  that a second clause reverses the first, "but" or not.
- **Fragments.** A sentence followed by a verbless fragment of the same sign, cut from a sure
  sentence's predicate ("The film was dull and far too long." gives "Dull and far too long."):
  "Two hours I will never get back. Dull and far too long." Half of the first sentences hold a
  negation, so that the model sees a negation's reach end at the sentence's end even when no verb
  follows it: taught by the negation rule alone, it read "never" followed by complaints as praise.

Sentences that already hold a negation or a contrast word, or more than one verb that a rule could
negate, are left alone: negating one clause of several would leave the label unknown.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# The rules' names, in the order their texts come in `RuleSentences`.
RULE_KINDS = ("negated", "contrast", "agreement", "fragment")
# How much of the source's logit a negated sentence keeps, with its sign flipped.
NEGATION_STRENGTH = 0.75
# How much of the deciding clause's logit a joined sentence keeps.
CONTRAST_STRENGTH = 0.9
# Two agreeing sure sentences are as sure as the pair's mean logit.
AGREEMENT_STRENGTH = 1.0
# Sources are sentences whose teacher logit is at least this far from 0 (a probability beyond 0.12 / 0.88).
MIN_SOURCE_LOGIT = 2.0
# Longer sentences are mostly plot, where one negated verb does not turn the verdict.
MAX_NEGATED_WORDS = 15
# Clauses of more words make joined sentences longer than any the model sees as one-liners.
MAX_CLAUSE_WORDS = 18
# A fragment keeps the predicate of a sentence whose subject has at most this many words: longer
# subjects are mostly plot ("The scene where the two brothers meet was ...").
MAX_FRAGMENT_SUBJECT_WORDS = 4
# Before the copula these make it a subordinate clause's verb, not the sentence's: "I wish it was
# longer." is not "Longer." ("if" is a contrast word, which rules a sentence out already.)
# fmt: off
_SUBORDINATING_WORDS = frozenset((
    "wish", "think", "thought", "hope", "hoped", "feel", "felt", "say", "said", "know", "knew", "believe", "guess",
    "when", "what",
))
# fmt: on
# Each fragment follows at most this many first clauses, so that a few fragments are not learned by
# heart where sure sentences are few.
MAX_FRAGMENT_USES = 8
# Draws of the negation rule's random forms per further negation asked of one source.
_DRAWS_PER_NEGATION = 4

# The words that negate what follows them, besides "n't".
NEGATION_WORDS = (
    "not", "no", "never", "nothing", "none", "nobody", "nowhere", "neither", "nor", "hardly", "barely", "scarcely",
    "without", "cannot",
)  # fmt: skip
_ALREADY_NEGATED = re.compile(rf"\b(?:{'|'.join(NEGATION_WORDS)})\b|n't\b", re.IGNORECASE)


def _reports_thought(words: Iterable[str]) -> bool:
    """Whether these words hold one that makes what follows a reported thought or a subordinate
    clause ("I think it was dull.", "When it was over ..."), not a plain statement."""
    return not _SUBORDINATING_WORDS.isdisjoint(word.lower() for word in words)


def holds_negation(text: str) -> bool:
    """Whether `text` holds a negation word ("not", "never", "n't", "nothing", ...)."""
    return _ALREADY_NEGATED.search(text) is not None


_CONTRAST_WORDS = re.compile(
    r"\b(?:but|although|though|however|while|whereas|yet|despite|except|unless|if|or|until)\b", re.IGNORECASE
)
_COPULA = re.compile(r"\b(is|was|are|were|am)\b", re.IGNORECASE)
# Not before "'ve": "could've" cannot take a "not".
_MODAL = re.compile(r"\b(will|would|can|could|should|must)\b(?!')", re.IGNORECASE)
# Verbs of opinion after a pronoun, past and present, with their base form.
_OPINION_VERBS = {
    "loved": "love",
    "liked": "like",
    "enjoyed": "enjoy",
    "hated": "hate",
    "disliked": "dislike",
    "adored": "adore",
    "admired": "admire",
    "appreciated": "appreciate",
    "recommended": "recommend",
    "love": "love",
    "like": "like",
    "enjoy": "enjoy",
    "hate": "hate",
    "dislike": "dislike",
    "adore": "adore",
    "recommend": "recommend",
}
_OPINION = re.compile(r"\b(I|we|you|they)\s+(" + "|".join(_OPINION_VERBS) + r")\b", re.IGNORECASE)
# Verbs that carry a verdict, in their third-person present and past forms, with their base form:
# "The story drags." -> "The story never drags.", "It disappointed me." -> "It didn't disappoint me."
# fmt: off
_VERDICT_VERB_BASES = (
    "work", "fail", "drag", "deliver", "disappoint", "bore", "shine", "succeed", "impress", "deserve", "suck",
    "stink", "satisfy", "entertain", "engage", "convince", "annoy", "irritate", "offend", "ruin", "save", "earn",
    "manage", "capture", "grab", "move", "touch", "amuse", "excite", "thrill", "charm", "please", "waste", "help",
    "surprise", "flow", "click", "stand", "hold", "make", "keep", "feel", "lose", "get", "come", "fall", "give",
)
# fmt: on
_IRREGULAR_PASTS = {
    "dragged": "drag",
    "grabbed": "grab",
    "stank": "stink",
    "stood": "stand",
    "held": "hold",
    "made": "make",
    "kept": "keep",
    "felt": "feel",
    "lost": "lose",
    "got": "get",
    "came": "come",
    "fell": "fall",
    "shone": "shine",
    "gave": "give",
}


def _inflected(base: str, suffix: str) -> str:
    """`base` with the regular ending "s" (third-person present) or "ed" (past)."""
    if base.endswith("y") and base[-2] not in "aeiou":
        return base[:-1] + ("ies" if suffix == "s" else "ied")
    if suffix == "s":
        return base + ("es" if base.endswith(("s", "sh", "ch", "x")) else "s")
    return base + ("d" if base.endswith("e") else "ed")


def _verdict_verb_forms() -> dict[str, tuple[str, bool]]:
    """Each inflected form of the verdict verbs -> (base form, whether it is past)."""
    forms: dict[str, tuple[str, bool]] = {past: (base, True) for past, base in _IRREGULAR_PASTS.items()}
    for base in _VERDICT_VERB_BASES:
        forms[_inflected(base, "s")] = (base, False)
        if base not in _IRREGULAR_PASTS.values():
            forms[_inflected(base, "ed")] = (base, True)
    return forms


_VERDICT_VERBS = _verdict_verb_forms()
# A form right after these words is a participle, an adjective or a noun ("was disappointed", "his
# works"), not the verb of the clause.
# fmt: off
_NOT_A_CLAUSE_VERB_AFTER = frozenset((
    "is", "was", "are", "were", "am", "be", "been", "being", "has", "have", "had", "get", "got", "the", "a", "an",
    "his", "her", "their", "its", "my", "our", "your", "this", "that", "very", "so", "too", "more", "most", "really",
    "quite",
))
# fmt: on
# Base forms are found too, though never negated: in "The jokes fall flat and the plot drags." the
# plural "fall" is a second verb, and negating "drags" alone would leave the verdict unknown.
_VERDICT = re.compile(
    r"\b(" + "|".join(sorted({*_VERDICT_VERBS, *_VERDICT_VERB_BASES}, key=len, reverse=True)) + r")\b", re.IGNORECASE
)
_CONTRACTED = {"is": "isn't", "was": "wasn't", "are": "aren't", "were": "weren't"}
_CONTRACTED_MODALS = {
    "will": "won't",
    "would": "wouldn't",
    "can": "can't",
    "could": "couldn't",
    "should": "shouldn't",
    "must": "mustn't",
}
_SENTENCE_END = re.compile(r"[.!?]+$")
_ARTICLE = re.compile(r"\s+(?:a|an|the)\b", re.IGNORECASE)
# Subjects as they read after "about": "It was dull." -> "There was nothing dull about it." ("I was
# bored." has no such form: it tells the speaker's state, not the film's.)
_OBJECT_PRONOUNS = {"he": "him", "she": "her", "they": "them", "it": "it"}
_SPEAKERS = frozenset(("i", "we", "you"))
# Predicates of at most this many words also become bare fragments: "Not wooden at all."
_MAX_FRAGMENT_WORDS = 4
# How often a sentence whose subject takes a quantifier is negated at its subject rather than its verb.
QUANTIFIER_SHARE = 0.3
# How often a copula is negated with "hardly", which reviews mostly use to deny praise.
HARDLY_SHARE = 0.1
# How often a sentence is negated in a speaker's words around it, where that is asked for.
SPEAKER_SHARE = 0.3
# The speaker's words that negate the sentence after them. Each denies the sentence's claim ("I
# don't think" reads as "I think it is not", as people use it), so the sentence's verdict turns.
SPEAKER_NEGATIONS = (
    "I don't think",
    "I do not think",
    "I wouldn't say",
    "I can't say",
    "I cannot say that",
    "I never felt that",
    "Nobody could say",
    "No one would claim that",
)
# A sentence of the speaker's own ("I loved it.") is denied by the speaker alone: "Nobody could say
# I loved it." does not read as "I didn't love it."
_FIRST_PERSON = re.compile(r"\b(?:i|me|my|we|us|our)\b", re.IGNORECASE)
_OWN_NEGATIONS = tuple(frame for frame in SPEAKER_NEGATIONS if frame.startswith("I "))
# Subjects a quantifier can negate: a determiner and up to three words ("the jokes", "his last two
# films"), or "it". Names and pronouns of people take none ("None of John was ...").
_QUANTIFIABLE_SUBJECT = re.compile(r"^(?:the|his|her|their|its|this|these|those)(?:\s+[\w'-]+){1,3}$", re.IGNORECASE)
# The form a copula takes after "Nothing about ...", which is singular whatever follows "about".
_SINGULAR_COPULAS = {"is": "is", "are": "is", "was": "was", "were": "was"}
# Quantities before an object that "no" can replace ("The film has many funny moments." -> "The film
# has no funny moments."), longest first so that "a lot of" is not read as "a"; those that count
# things also give "not a single" with the noun made singular.
_COUNTING_QUANTITIES = (
    "a lot of",
    "lots of",
    "plenty of",
    "tons of",
    "so many",
    "too many",
    "a few",
    "many",
    "several",
)
_OTHER_QUANTITIES = ("so much", "too much", "much", "some", "an", "a")
_QUANTITY = "|".join(sorted((*_COUNTING_QUANTITIES, *_OTHER_QUANTITIES), key=len, reverse=True))
# Verbs whose object can be negated, each form with its negation: "It offers many laughs." -> "It
# doesn't offer a single laugh.", "I found some flaws." -> "I didn't find a single flaw."
_OBJECT_VERB_BASES = ("have", "offer", "contain", "feature", "include", "provide", "find", "notice")
# Of them, those whose object may come without a quantity: "It has great actors.", "It had heart."
# ("I find it dull." has no object to negate.)
_BARE_OBJECT_VERBS = frozenset(("has", "have", "had", *_CONTRACTED))
# An object (after its quantity, if any) starting with one of these is no noun phrase that "no" can
# take: "It has been ...", "It had the best cast.", "It has very good actors.", "It has a lot going for it."
# fmt: off
_NOT_A_NOUN_PHRASE = frozenset((
    "it", "him", "her", "them", "this", "that", "these", "those", "the", "his", "its", "their", "my", "your", "our",
    "to", "been", "become", "seen", "done", "gone", "made", "got", "had", "always", "also", "never", "just", "still",
    "already", "no", "any", "every", "all", "both", "each", "one", "more", "less", "better", "worse", "enough",
    "such", "what", "here", "there", "come", "very", "quite", "really", "way", "so", "too", "rather", "pretty",
    "even", "lot", "few", "little", "bit", "number", "couple", "kind", "sort", "bunch", "handful", "thousands",
    "hundreds", "dozens", "a", "an", "long", "two", "three", "four", "five", "ten", "of", "another", "other",
    "something", "everything", "anything",
))
# Words in a subject that make the verb after it no main verb of a statement: "That may have ...",
# "I think it has ...", "Rarely has cinema been ...", "Here we have ...".
_NOT_AN_OBJECT_SUBJECT = frozenset((
    "may", "might", "to", "and", "or", "rarely", "seldom", "only", "here", "then", "now", "because", "seems",
    *_SUBORDINATING_WORDS,
))
# fmt: on


# Their third-person present and past forms where these are not regular.
_IRREGULAR_OBJECT_VERBS = {"have": ("has", "had"), "find": ("finds", "found")}


def _object_verb_forms() -> dict[str, str]:
    """Each form of the object verbs -> its negation before the base form ("has" -> "doesn't have"),
    and each copula of "there is" -> its negation before "a single" ("were" -> "wasn't")."""
    forms: dict[str, str] = {}
    for base in _OBJECT_VERB_BASES:
        present, past = _IRREGULAR_OBJECT_VERBS.get(base, (_inflected(base, "s"), _inflected(base, "ed")))
        forms |= {base: f"don't {base}", present: f"doesn't {base}", past: f"didn't {base}"}
    return forms | {copula: _CONTRACTED[_SINGULAR_COPULAS[copula]] for copula in _CONTRACTED}


_NEGATED_OBJECT_VERBS = _object_verb_forms()
# "It has many funny moments." and "There were many funny moments.": a subject of up to four words,
# one of the object verbs or "there is", maybe a quantity, and the object with whatever follows it.
_OBJECT = re.compile(
    r"^(?P<subject>(?:[\w'-]+\s+){0,3}[\w'-]+)\s+(?P<verb>"
    + "|".join(sorted(_NEGATED_OBJECT_VERBS, key=len, reverse=True))
    + r")\s+(?:(?P<quantity>"
    + _QUANTITY
    + r")\s+)?(?P<object>(?-i:[a-z])[\w'-]*.*)$",
    re.IGNORECASE,
)
# Where the noun phrase of an object ends: "many funny moments in the film" has the head "moments".
_NOUN_PHRASE_END = re.compile(r"\s+(?:in|of|on|at|from|with|by|for|to|that|which|who|and|as)\b|[,;:]", re.IGNORECASE)


def negated(
    text: str, rng: np.random.Generator, quantifiers: bool = False, objects: bool = False, speakers: bool = False
) -> str | None:
    """The sentence negated at its one verb, or None when no rule applies to it unambiguously. With
    `quantifiers`, also at a subject that takes one ("None of the jokes fell flat.") and with "hardly";
    with `objects`, also at an object ("It has no funny moments.", "Not a single funny moment."); with
    `speakers`, also in a speaker's words around it ("I wouldn't say the plot was dull.")."""
    if len(text.split()) > MAX_NEGATED_WORDS or text.rstrip().endswith("?"):
        return None
    if holds_negation(text) or _CONTRAST_WORDS.search(text):
        return None
    copulas, modals, opinions = (list(pattern.finditer(text)) for pattern in (_COPULA, _MODAL, _OPINION))
    opinion_verbs = {match.start(2) for match in opinions}
    verdicts = [match for match in _verdict_verbs(text) if match.start() not in opinion_verbs]
    verbs = len(copulas) + len(modals) + len(opinions) + len(verdicts)
    with_object = _OBJECT.match(text.strip()) if objects else None
    # "has" is no verb the other rules count; "there is" is their copula, the sentence's only verb.
    if with_object and (verbs == 0 or (verbs == len(copulas) == 1 and with_object["subject"].lower() == "there")):
        rewritten = _negated_object(with_object, rng)
        if rewritten is not None:
            return rewritten
    if verbs != 1:
        return None
    # Drawn only when asked for, so that the other forms are drawn as they were without it.
    if speakers and rng.random() < SPEAKER_SHARE:
        spoken = _in_speakers_words(text, rng)
        if spoken is not None:
            return spoken

    def at_subject(verb: re.Match[str], share: float = QUANTIFIER_SHARE) -> str | None:
        return _quantified(text, verb, rng, share) if quantifiers else None

    if copulas:
        hardly_share = HARDLY_SHARE if quantifiers else 0.0
        return at_subject(copulas[0]) or _negated_copula(text, copulas[0], rng, hardly_share)
    if modals:
        return _negated_modal(text, modals[0], rng)
    if opinions:
        return _negated_opinion(text, opinions[0], rng)
    if verdicts[0].group(1).lower() not in _VERDICT_VERBS:
        # A base form: "They fail." would need to know its subject's number to take "doesn't", but
        # "None of the jokes fall flat." needs none.
        return at_subject(verdicts[0], share=1.0)
    return at_subject(verdicts[0]) or _negated_verdict(text, verdicts[0], rng)


def _in_speakers_words(text: str, rng: np.random.Generator) -> str | None:
    """The sentence after words of a speaker that deny it ("I wouldn't say the plot was dull."), or
    None for a sentence that already reports a speaker's thought ("I think it was dull.")."""
    if _reports_thought(word.strip(",;:") for word in text.split()):
        return None
    frames = _OWN_NEGATIONS if _FIRST_PERSON.search(text) else SPEAKER_NEGATIONS
    frame = frames[rng.integers(len(frames))]
    return f"{frame} {_lowered(_clause(text))}."


def _verdict_verbs(text: str) -> list[re.Match[str]]:
    """The verdict verbs of `text` that stand as a clause's verb (not after "was", "the", ...)."""
    found = []
    for match in _VERDICT.finditer(text):
        before = text[: match.start()].split()
        if before and before[-1].lower() not in _NOT_A_CLAUSE_VERB_AFTER:
            found.append(match)
    return found


def _quantified(text: str, verb: re.Match[str], rng: np.random.Generator, share: float) -> str | None:
    """The sentence negated at its subject, `share` of the time where its subject takes a
    quantifier, otherwise None: "None of" before a plural ("None of the jokes fell flat."),
    "Nothing about" before anything else ("Nothing about the plot was dull.")."""
    subject = text[: verb.start()].strip()
    rest = text[verb.end() :]
    if not (subject.lower() == "it" or _QUANTIFIABLE_SUBJECT.match(subject)) or _ARTICLE.match(rest):
        return None  # "Nothing about this film is a masterpiece." does not read.
    if rng.random() >= share:
        return None
    about = _lowered(subject)
    if _looks_plural(subject.split()[-1]):
        return f"None of {about} {verb.group(1)}{rest}"
    word = verb.group(1).lower()
    if word not in _SINGULAR_COPULAS and word not in _VERDICT_VERBS:
        return None  # A base form after a singular subject: not a sentence to rewrite.
    return f"Nothing about {about} {_SINGULAR_COPULAS.get(word, word)}{rest}"


def _negated_object(match: re.Match[str], rng: np.random.Generator) -> str | None:
    """A sentence of having, finding or "there is" negated at its object: "no" in place of the
    quantity, "not a single" before a noun that counts, or a bare fragment ("Not a single funny moment.")."""
    subject, verb = match["subject"], match["verb"].lower()
    quantity = (match["quantity"] or "").lower()
    if (subject.lower() == "there") != (verb in _CONTRACTED):
        return None  # "There has been ..." says nothing of an object; "It is a joke." is the copula rule's.
    whole = _clause(match["object"])
    if _NOT_AN_OBJECT_SUBJECT.intersection(subject.lower().split()) or not _noun_phrase_start(whole, quantity):
        return None
    if not quantity and verb not in _BARE_OBJECT_VERBS:
        return None
    cut = _NOUN_PHRASE_END.search(whole)
    noun_phrase, rest = (whole[: cut.start()], whole[cut.start() :]) if cut else (whole, "")
    if not noun_phrase:
        return None
    single = _singular_phrase(noun_phrase, quantity)
    if single is not None and not rest and len(single.split()) <= _MAX_FRAGMENT_WORDS and rng.random() < 0.3:
        return f"Not {'one' if rng.random() < 0.3 else 'a single'} {single}."
    negation = _NEGATED_OBJECT_VERBS[verb]
    if single is not None and rng.random() < 0.4:
        return f"{subject} {negation} a single {single}{rest}."
    if quantity in ("a", "an") and rng.random() < 0.5:
        # "There was a dull scene." -> "There wasn't a dull scene."
        return f"{subject} {negation} {match['quantity']} {noun_phrase}{rest}."
    return f"{subject} {match['verb']} no {noun_phrase}{rest}."


def _noun_phrase_start(text: str, quantity: str) -> bool:
    """Whether `text`, an object after its quantity if any, starts like a noun phrase "no" can take.
    Without a quantity, a word in "-ed" or "-en" is a participle ("It has worked.", "It has taken ...")."""
    first = text.split()[0].lower().rstrip(",;:")
    participle = not quantity and first.endswith(("ed", "en"))
    return first not in _NOT_A_NOUN_PHRASE and not participle and not first.endswith("ly") and not first.isdigit()


def _singular_phrase(noun_phrase: str, quantity: str) -> str | None:
    """The noun phrase with its head made singular, for "a single ...", or None when it does not count."""
    head = noun_phrase.split()[-1]
    if quantity not in (*_COUNTING_QUANTITIES, "some", "") or not _looks_plural(head):
        return None
    singular = head[:-3] + "y" if head.lower().endswith("ies") else head[:-1]
    return noun_phrase[: len(noun_phrase) - len(head)] + singular


def _looks_plural(noun: str) -> bool:
    return noun.lower().endswith("s") and not noun.lower().endswith(("ss", "us", "is"))


def _negated_copula(text: str, match: re.Match[str], rng: np.random.Generator, hardly_share: float = 0.0) -> str:
    verb = match.group(1)
    subject = text[: match.start()].strip()
    rest = text[match.end() :]
    predicate = _SENTENCE_END.sub("", rest).strip()
    article = _ARTICLE.match(rest)
    if 0 < len(predicate.split()) <= _MAX_FRAGMENT_WORDS and rng.random() < 0.3:
        return f"Not {predicate}{' at all' if rng.random() < 0.5 else ''}."
    if article is not None and article.group().strip().lower() in ("a", "an") and rng.random() < 0.3:
        # "It was a disaster." -> "It was no disaster."
        return text[: match.end()] + " no" + rest[article.end() :]
    if (
        article is None
        and len(predicate.split()) in (1, 2)
        and 0 < len(subject.split()) <= 4
        and subject.lower() not in _SPEAKERS
        and rng.random() < 0.25
    ):
        if _reports_thought(subject.split()):
            # "I think it was dull." has no such form ("There was nothing dull about i think it."). Its
            # plain negation takes no further draw, so every other sentence is negated as before.
            return text[: match.start()] + f"{verb} not" + text[match.end() :]
        # "The plot was predictable." -> "There was nothing predictable about the plot."
        tense = "was" if verb.lower() in ("was", "were") else "is"
        about = _OBJECT_PRONOUNS.get(subject.lower(), subject[:1].lower() + subject[1:])
        return f"There {tense} nothing {predicate} about {about}."
    choice = rng.integers(3)
    # Drawn only when asked for, so that the other forms are drawn as they were without it.
    if hardly_share > 0 and rng.random() < hardly_share:
        # "The plot was hardly dull.", "It was hardly a disaster."
        replacement = f"{verb} hardly"
    elif choice == 0 and verb.lower() in _CONTRACTED:
        replacement = _same_case(verb, _CONTRACTED[verb.lower()])
    elif choice == 1 and article is None:
        # "was never dull" reads well; "is never a great film" does not.
        replacement = f"{verb} never"
    else:
        replacement = f"{verb} not"
    return text[: match.start()] + replacement + text[match.end() :]


def _negated_modal(text: str, match: re.Match[str], rng: np.random.Generator) -> str:
    verb = match.group(1)
    if rng.random() < 0.5:
        replacement = _same_case(verb, _CONTRACTED_MODALS[verb.lower()])
    else:
        replacement = f"{verb} {'never' if rng.random() < 0.3 else 'not'}"
    return text[: match.start()] + replacement + text[match.end() :]


def _negated_opinion(text: str, match: re.Match[str], rng: np.random.Generator) -> str:
    subject, verb = match.group(1), match.group(2)
    base = _OPINION_VERBS[verb.lower()]
    past = verb.lower() != base
    auxiliary = ("didn't" if past else "don't") if rng.random() < 0.5 else ("did not" if past else "do not")
    return text[: match.start()] + f"{subject} {auxiliary} {base}" + text[match.end() :]


def _negated_verdict(text: str, match: re.Match[str], rng: np.random.Generator) -> str:
    base, past = _VERDICT_VERBS[match.group(1).lower()]
    if rng.random() < 0.3:
        replacement = f"never {match.group(1)}"
    elif rng.random() < 0.5:
        replacement = f"{'didn' if past else 'doesn'}'t {base}"
    else:
        replacement = f"{'did' if past else 'does'} not {base}"
    return text[: match.start()] + replacement + text[match.end() :]


def _same_case(original: str, replacement: str) -> str:
    return replacement.capitalize() if original[:1].isupper() else replacement


def joined(conceded: str, decider: str, rng: np.random.Generator) -> str:
    """Two sentences joined by a contrast that makes `decider` the clause that decides: after "but"
    or "however", or as the main clause beside "although", "even though" or "despite"."""
    a, b = _clause(conceded), _clause(decider)
    templates = (
        f"{_capitalised(a)}, but {_lowered(b)}.",
        f"{_capitalised(a)}. But {_capitalised(b)}.",
        f"{_capitalised(a)}; however, {_lowered(b)}.",
        f"Although {_lowered(a)}, {_lowered(b)}.",
        f"Despite the fact that {_lowered(a)}, {_lowered(b)}.",
        f"{_capitalised(b)}, even though {_lowered(a)}.",
        f"{_capitalised(b)}, although {_lowered(a)}.",
    )
    return templates[rng.integers(len(templates))]


def agreeing(first: str, second: str, rng: np.random.Generator) -> str:
    """Two sentences of the same sign side by side, as two sentences or as one."""
    a, b = _clause(first), _clause(second)
    templates = (
        f"{_capitalised(a)}. {_capitalised(b)}.",
        f"{_capitalised(a)}, and {_lowered(b)}.",
        f"{_capitalised(a)}; {_lowered(b)}.",
        f"{_capitalised(a)}. And {_lowered(b)}.",
    )
    return templates[rng.integers(len(templates))]


def fragment(sentence: str) -> str | None:
    """The predicate of a sentence whose one verb is a copula, as a verbless fragment ("The film was
    dull and far too long." -> "Dull and far too long."), or None when the sentence has no such form."""
    if sentence.rstrip().endswith("?") or holds_negation(sentence) or _CONTRAST_WORDS.search(sentence):
        return None
    copulas = list(_COPULA.finditer(sentence))
    if len(copulas) != 1 or _MODAL.search(sentence) or _OPINION.search(sentence) or _verdict_verbs(sentence):
        return None
    subject = sentence[: copulas[0].start()].split()
    if _reports_thought(subject):
        return None
    predicate = _clause(sentence[copulas[0].end() :]).lstrip(",;: ")
    if not 0 < len(subject) <= MAX_FRAGMENT_SUBJECT_WORDS or not 0 < len(predicate.split()) <= MAX_CLAUSE_WORDS:
        return None
    return f"{_capitalised(predicate)}."


def _clause(sentence: str) -> str:
    return _SENTENCE_END.sub("", sentence.strip()).strip()


def _capitalised(clause: str) -> str:
    return clause[:1].upper() + clause[1:]


def _lowered(clause: str) -> str:
    # The model lower-cases every text anyway; "I" stays as it is so that the text reads right.
    if clause == "I" or clause.startswith(("I ", "I'")):
        return clause
    return clause[:1].lower() + clause[1:]


@dataclass(frozen=True)
class RuleSentences:
    """Texts written by the rules with their logits: the negated ones first, then the contrasting,
    the agreeing and the sentence-and-fragment ones, as many as each count says."""

    texts: list[str]
    logits: np.ndarray
    negations: int
    contrasts: int
    agreements: int
    fragments: int

    def followed_by(self, other: "RuleSentences") -> "RuleSentences":
        """These texts and `other`'s, each rule's texts together, in the rules' order."""
        mine, theirs = self.kinds(), other.kinds()
        texts = [text for kind in RULE_KINDS for text in self.texts[mine[kind]] + other.texts[theirs[kind]]]
        logits = np.concatenate(
            [part for kind in RULE_KINDS for part in (self.logits[mine[kind]], other.logits[theirs[kind]])]
        )
        return RuleSentences(
            texts,
            logits,
            self.negations + other.negations,
            self.contrasts + other.contrasts,
            self.agreements + other.agreements,
            self.fragments + other.fragments,
        )

    def kinds(self) -> dict[str, slice]:
        """Where each rule's texts lie in `texts`, by the rule's name."""
        counts = (self.negations, self.contrasts, self.agreements, self.fragments)
        ends = np.cumsum(counts)
        return {
            kind: slice(int(end) - count, int(end)) for kind, count, end in zip(RULE_KINDS, counts, ends, strict=True)
        }


def rule_sentences(
    texts: list[str],
    logits: np.ndarray,
    negation_count: int,
    contrast_count: int,
    agreement_count: int,
    fragment_count: int,
    seed: int,
    negation_quantifiers: bool = False,
    negation_objects: bool = False,
    negations_per_source: int = 1,
    negation_speakers: bool = False,
) -> RuleSentences:
    """Up to `negation_count` negated, `contrast_count` contrasting, `agreement_count` agreeing
    and `fragment_count` sentence-and-fragment texts made from the teacher's surest `texts`, half of
    each kind read positive and half negative, with their logits. `negation_quantifiers` lets the
    negation rule negate at the subject and with "hardly" too, `negation_objects` at an object,
    `negation_speakers` in a speaker's words around the sentence (`negated`); each source gives up to
    `negations_per_source` different negated sentences."""
    rng = np.random.default_rng(seed)
    sure = np.flatnonzero(np.abs(logits) >= MIN_SOURCE_LOGIT)
    negative = [index for index in rng.permutation(sure) if logits[index] < 0]
    positive = [index for index in rng.permutation(sure) if logits[index] > 0]
    negated_texts, negated_logits, negated_from = _negations(
        texts,
        logits,
        negative,
        positive,
        negation_count,
        rng,
        (negation_quantifiers, negation_objects, negation_speakers),
        negations_per_source,
    )
    # The negated sentences are clauses of the pairs too, beside sentences without a negation, so
    # that the pairs show where a negation's reach ends: in "The acting was not good. The plot was
    # dull." the "not" turns "good" and leaves "dull" a complaint. Without them every "not" or
    # "never" the model met turned what followed it, and it read "Two hours I will never get back.
    # Dull, badly acted and far too long." as praise (training/README.md).
    clause_texts = [*texts, *negated_texts]
    clause_logits = np.concatenate([logits, np.asarray(negated_logits, dtype=np.float64)])
    negated_indexes = range(len(texts), len(clause_texts))
    negative = _shuffled([*negative, *(index for index in negated_indexes if clause_logits[index] < 0)], rng)
    positive = _shuffled([*positive, *(index for index in negated_indexes if clause_logits[index] > 0)], rng)
    origins = [*range(len(texts)), *negated_from]
    joined_texts, joined_logits = _contrasts(
        clause_texts, clause_logits, negative, positive, contrast_count, rng, origins
    )
    agreeing_texts, agreeing_logits = _agreements(clause_texts, clause_logits, negative, positive, agreement_count, rng)
    fragment_texts, fragment_logits = _fragment_pairs(
        clause_texts, clause_logits, negative, positive, fragment_count, rng
    )
    return RuleSentences(
        negated_texts + joined_texts + agreeing_texts + fragment_texts,
        np.array(negated_logits + joined_logits + agreeing_logits + fragment_logits, dtype=np.float64),
        len(negated_texts),
        len(joined_texts),
        len(agreeing_texts),
        len(fragment_texts),
    )


def _shuffled(indexes: list[int], rng: np.random.Generator) -> list[int]:
    return [indexes[position] for position in rng.permutation(len(indexes))]


def _negations(
    texts: list[str],
    logits: np.ndarray,
    negative: list[int],
    positive: list[int],
    count: int,
    rng: np.random.Generator,
    forms: tuple[bool, bool, bool],
    per_source: int = 1,
) -> tuple[list[str], list[float], list[int]]:
    """Negated sentences, as many read positive (negated complaints) as negative (negated praise),
    with their logits and the index of the sentence each was made from. `forms` switches on
    `negated`'s optional forms: at the subject, at the object, in a speaker's words. Each source
    gives up to `per_source` different ones."""
    made: list[str] = []
    made_logits: list[float] = []
    made_from: list[int] = []
    for sources in (negative, positive):
        wanted = count // 2 if sources is negative else count - count // 2
        found = 0
        for index in sources:
            for rewritten in _different_negations(texts[index], rng, forms, min(per_source, wanted - found)):
                made.append(rewritten)
                made_logits.append(-NEGATION_STRENGTH * float(logits[index]))
                made_from.append(index)
                found += 1
            if found == wanted:
                break
    return made, made_logits, made_from


def _different_negations(text: str, rng: np.random.Generator, forms: tuple[bool, bool, bool], count: int) -> list[str]:
    """Up to `count` different negations of `text`: the forms are drawn at random, so a few more
    draws than `count` find the others where a sentence takes several."""
    if count <= 0:
        return []
    first = negated(text, rng, *forms)
    if first is None:
        return []
    found = [first]
    for _ in range(_DRAWS_PER_NEGATION * (count - 1)):
        if len(found) == count:
            break
        rewritten = negated(text, rng, *forms)
        if rewritten is not None and rewritten not in found:
            found.append(rewritten)
    return found


def _contrasts(
    texts: list[str],
    logits: np.ndarray,
    negative: list[int],
    positive: list[int],
    count: int,
    rng: np.random.Generator,
    origins: list[int],
) -> tuple[list[str], list[float]]:
    """Joined sentences of one negative and one positive clause, half decided by each. `origins`
    gives each clause the sentence it was made from (itself, unless negated): a negated sentence is
    never joined with its own source ("The cast wasn't superb, but the cast was superb.")."""
    pairs = _partners(_clause_sources(texts, negative), _clause_sources(texts, positive), origins)
    made: list[str] = []
    made_logits: list[float] = []
    # Each pair serves twice, once decided by either clause, so that "but" rather than either
    # clause's words carries the verdict (this doubled the joined sentences of rules run A and
    # lowered validation loss; training/README.md).
    for number in range(min(count, 2 * len(pairs))):
        # Even numbers end on the positive clause's verdict, odd ones on the negative's.
        bad, good = pairs[number // 2]
        decider, conceded = (good, bad) if number % 2 == 0 else (bad, good)
        made.append(joined(texts[conceded], texts[decider], rng))
        made_logits.append(CONTRAST_STRENGTH * float(logits[decider]))
    return made, made_logits


def _partners(negative: list[int], positive: list[int], origins: list[int]) -> list[tuple[int, int]]:
    """Each negative clause with the first positive clause not yet taken that has another origin."""
    pairs = []
    # Positive clauses passed over because they shared the origin of the clause they were offered to.
    held: list[int] = []
    unseen = iter(positive)
    for bad in negative:
        good = next((candidate for candidate in held if origins[candidate] != origins[bad]), None)
        if good is not None:
            held.remove(good)
        else:
            for candidate in unseen:
                if origins[candidate] != origins[bad]:
                    good = candidate
                    break
                held.append(candidate)
        if good is not None:
            pairs.append((bad, good))
    return pairs


def _agreements(
    texts: list[str], logits: np.ndarray, negative: list[int], positive: list[int], count: int, rng: np.random.Generator
) -> tuple[list[str], list[float]]:
    """Pairs of clauses of one sign side by side, as many negative as positive, labelled by their
    mean logit. Each clause is in two pairs, once first and once second, as each contrast source is
    joined twice; pairs are drawn in a new order, so they are not the contrast pairs again."""
    made: list[str] = []
    made_logits: list[float] = []
    for sign, sources in enumerate((negative, positive)):
        clauses = [int(index) for index in rng.permutation(_clause_sources(texts, sources))]
        wanted = count // 2 if sign == 0 else count - count // 2
        if len(clauses) < 2:
            continue
        for number in range(min(wanted, len(clauses))):
            first, second = clauses[number], clauses[(number + 1) % len(clauses)]
            made.append(agreeing(texts[first], texts[second], rng))
            made_logits.append(AGREEMENT_STRENGTH * float(logits[first] + logits[second]) / 2)
    return made, made_logits


def _fragment_pairs(
    texts: list[str], logits: np.ndarray, negative: list[int], positive: list[int], count: int, rng: np.random.Generator
) -> tuple[list[str], list[float]]:
    """A clause followed by a fragment of another clause of the same sign, up to `count` in all, as
    many negative as positive, labelled by their mean logit. Every other pair starts with a clause that holds a
    negation (found in a review or made by the negation rule), where there is one of that sign."""
    made: list[str] = []
    made_logits: list[float] = []
    for sign, sources in enumerate((negative, positive)):
        clauses = _clause_sources(texts, sources)
        with_negation = [index for index in clauses if holds_negation(texts[index])]
        fragments = [(index, piece) for index in clauses if (piece := fragment(texts[index])) is not None]
        wanted = count // 2 if sign == 0 else count - count // 2
        if len(clauses) < 2 or not fragments:
            continue
        # Sure sentences with a copula alone are few (fewer than 3,000 of either sign in IMDB's
        # unlabelled reviews), so each fragment follows several first clauses.
        for number in range(min(wanted, MAX_FRAGMENT_USES * len(fragments))):
            source, piece = fragments[number % len(fragments)]
            pool = with_negation if with_negation and number % 2 == 0 else clauses
            first = pool[rng.integers(len(pool))]
            if first == source:
                first = clauses[(clauses.index(source) + 1) % len(clauses)]
            made.append(f"{_capitalised(_clause(texts[first]))}. {piece}")
            made_logits.append(AGREEMENT_STRENGTH * float(logits[first] + logits[source]) / 2)
    return made, made_logits


def _clause_sources(texts: list[str], indexes: list[int]) -> list[int]:
    """The sources short enough, and free enough of contrast words, to be a clause of a joined text."""
    return [
        index
        for index in indexes
        if len(texts[index].split()) <= MAX_CLAUSE_WORDS and not _CONTRAST_WORDS.search(texts[index])
    ]
