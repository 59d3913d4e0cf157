from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from tests.conftest import NO_RULES
from training.augment import (
    AGREEMENT_STRENGTH,
    CONTRAST_STRENGTH,
    MAX_FRAGMENT_USES,
    NEGATION_STRENGTH,
    SPEAKER_NEGATIONS,
    RuleSentences,
    agreeing,
    fragment,
    joined,
    negated,
    rule_sentences,
)
from training.config import TrainConfig
from training.data import Reviews
from training.distillation import teacher_labelled


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize(
    ("text", "negations"),
    [
        (
            "The acting was wooden.",
            {
                "The acting was not wooden.",
                "The acting wasn't wooden.",
                "The acting was never wooden.",
                "The acting was hardly wooden.",
                "There was nothing wooden about the acting.",
                "Nothing about the acting was wooden.",
            },
        ),
        (
            "It is a disaster.",
            {"It is not a disaster.", "It isn't a disaster.", "It is no disaster.", "It is hardly a disaster."},
        ),
        ("I was bored.", {"I was not bored.", "I wasn't bored.", "I was never bored.", "I was hardly bored."}),
        ("You will be bored.", {"You will not be bored.", "You won't be bored.", "You will never be bored."}),
        ("I loved it.", {"I did not love it.", "I didn't love it."}),
        ("We recommend this film.", {"We do not recommend this film.", "We don't recommend this film."}),
        (
            "The story drags.",
            {
                "The story doesn't drag.",
                "The story does not drag.",
                "The story never drags.",
                "Nothing about the story drags.",
            },
        ),
        (
            "The ending disappointed me.",
            {
                "The ending didn't disappoint me.",
                "The ending did not disappoint me.",
                "The ending never disappointed me.",
                "Nothing about the ending disappointed me.",
            },
        ),
        (
            "The jokes fell flat.",
            {
                "The jokes didn't fall flat.",
                "The jokes did not fall flat.",
                "The jokes never fell flat.",
                "None of the jokes fell flat.",
            },
        ),
        (
            "It satisfies.",
            {"It doesn't satisfy.", "It does not satisfy.", "It never satisfies.", "Nothing about it satisfies."},
        ),
        # A plural verb's subject takes "None of", though not "doesn't".
        ("The jokes fall flat.", {"None of the jokes fall flat."}),
        (
            "The effects were cheap.",
            {
                "The effects were not cheap.",
                "The effects weren't cheap.",
                "The effects were never cheap.",
                "The effects were hardly cheap.",
                "There was nothing cheap about the effects.",
                "None of the effects were cheap.",
            },
        ),
    ],
)
def test_a_one_verb_sentence_is_negated_at_its_verb(text: str, negations: set[str]):
    # With quantifiers, the subject ("None of", "Nothing about") and "hardly" forms are drawn too.
    made = {negated(text, rng(seed), quantifiers=True) for seed in range(40)}
    fragments = {sentence for sentence in made if sentence is not None and sentence.startswith("Not ")}
    assert made - fragments <= negations and made - fragments
    # Short predicates also become the bare fragments people type: "Not wooden.", "Not wooden at all."
    for bare in fragments:
        predicate = bare.removeprefix("Not ").removesuffix(".").removesuffix(" at all")
        assert text.removesuffix(".").endswith(" " + predicate), bare


def test_a_subject_that_takes_a_quantifier_is_sometimes_negated_there():
    made = {negated("The jokes fell flat.", rng(seed), quantifiers=True) for seed in range(40)}
    assert "None of the jokes fell flat." in made and "The jokes never fell flat." in made
    dull = {negated("The plot was dull.", rng(seed), quantifiers=True) for seed in range(40)}
    assert "Nothing about the plot was dull." in dull and "The plot was hardly dull." in dull
    # A predicate with an article keeps its subject: "Nothing about this film is a masterpiece." does not read.
    masterpiece = (negated("This film is a masterpiece.", rng(seed), quantifiers=True) for seed in range(40))
    assert not any("Nothing" in str(text) for text in masterpiece)
    # Nor do people: "None of John was great."
    john = (negated("John was great.", rng(seed), quantifiers=True) for seed in range(40))
    assert not any(str(text).startswith(("None", "Nothing")) for text in john)


@pytest.mark.parametrize(
    "text",
    ["The jokes fell flat.", "The plot was dull.", "The story drags.", "It was boring.", "The effects were cheap."],
)
def test_without_quantifiers_neither_the_subject_nor_hardly_is_negated(text: str):
    made = {str(negated(text, rng(seed))) for seed in range(40)}
    assert not any(_quantified(sentence) for sentence in made)


def _quantified(text: str) -> bool:
    return text.startswith(("None of", "Nothing about")) or " hardly " in text


def _is_framed(text: str) -> bool:
    return _framed_clause(text) is not None


def _framed_clause(text: str) -> str | None:
    """The clause after a speaker's words, or None for a text not framed by them."""
    frame = next((frame for frame in SPEAKER_NEGATIONS if text.startswith(frame + " ")), None)
    return None if frame is None else text.removeprefix(frame + " ")


@pytest.mark.parametrize(
    ("text", "clause"),
    [
        ("The acting was wooden.", "the acting was wooden."),
        ("The story drags.", "the story drags."),
        ("You will be bored.", "you will be bored."),
        ("It disappointed me!", "it disappointed me."),
    ],
)
def test_with_speakers_a_sentence_is_sometimes_denied_in_a_speakers_words(text: str, clause: str):
    made = {str(negated(text, rng(seed), speakers=True)) for seed in range(60)}
    framed = {sentence for sentence in made if _is_framed(sentence)}
    # Several of the frames, each around the whole sentence, and the other forms still drawn.
    assert len(framed) >= 3 and made - framed
    assert {_framed_clause(sentence) for sentence in framed} == {clause}
    without = {str(negated(text, rng(seed))) for seed in range(60)}
    assert not any(_is_framed(sentence) for sentence in without)


def test_a_speakers_own_sentence_is_denied_by_the_speaker_alone():
    for text in ("I loved it.", "We were bored.", "It bored me."):
        made = {str(negated(text, rng(seed), speakers=True)) for seed in range(80)}
        framed = {sentence for sentence in made if _is_framed(sentence)}
        assert framed and all(sentence.startswith("I ") for sentence in framed), framed
    # Another's sentence may be denied by anyone.
    others = {str(negated("The plot was dull.", rng(seed), speakers=True)) for seed in range(80)}
    assert any(sentence.startswith(("Nobody", "No one")) for sentence in others)


def test_a_reported_thought_is_neither_framed_nor_rewritten_about_its_thinker():
    # "I don't think I think it was dull." and "There was nothing dull about i think it." do not read.
    made = {str(negated("I think it was dull.", rng(seed), speakers=True)) for seed in range(80)}
    assert "I think it was not dull." in made
    assert not any(_is_framed(sentence) or "about" in sentence for sentence in made), made


@pytest.mark.parametrize(
    ("option", "is_optional_form"),
    [("negation_quantifiers", _quantified), ("negation_speakers", _is_framed)],
)
def test_rule_sentences_draw_an_optional_negation_only_when_asked(option: str, is_optional_form):
    texts, logits = _sure_sentences()
    counts = {"negation_count": 6, "contrast_count": 0, "agreement_count": 0, "fragment_count": 0}

    def negations(seed: int, asked: bool) -> list[str]:
        made = rule_sentences(texts, logits, **counts, seed=seed, **{option: asked})
        return made.texts[: made.negations]

    assert any(is_optional_form(text) for seed in range(20) for text in negations(seed, True))
    assert not any(is_optional_form(text) for seed in range(20) for text in negations(seed, False))


@pytest.mark.parametrize(
    ("text", "negations"),
    [
        (
            "The film has many funny moments.",
            {
                "The film has no funny moments.",
                "The film doesn't have a single funny moment.",
                "Not a single funny moment.",
                "Not one funny moment.",
            },
        ),
        (
            "There were too many boring scenes in it.",
            {"There were no boring scenes in it.", "There wasn't a single boring scene in it."},
        ),
        ("I had a lot of fun.", {"I had no fun."}),
        (
            "We had some great laughs.",
            {
                "We had no great laughs.",
                "We didn't have a single great laugh.",
                "Not a single great laugh.",
                "Not one great laugh.",
            },
        ),
        ("There was a dull scene.", {"There was no dull scene.", "There wasn't a dull scene."}),
        (
            "It has plenty of cheap stories, sadly.",
            {"It has no cheap stories, sadly.", "It doesn't have a single cheap story, sadly."},
        ),
    ],
)
def test_with_objects_a_quantified_object_is_negated(text: str, negations: set[str]):
    made = {negated(text, rng(seed), objects=True) for seed in range(60)}
    assert made == negations


@pytest.mark.parametrize(
    ("text", "negations"),
    [
        (
            "I found some flaws.",
            {"I found no flaws.", "I didn't find a single flaw.", "Not a single flaw.", "Not one flaw."},
        ),
        (
            "It offers plenty of laughs.",
            {"It offers no laughs.", "It doesn't offer a single laugh.", "Not a single laugh.", "Not one laugh."},
        ),
        # Without a quantity, after "have" and "there is" only.
        (
            "The film has great actors.",
            {
                "The film has no great actors.",
                "The film doesn't have a single great actor.",
                "Not a single great actor.",
                "Not one great actor.",
            },
        ),
        ("It had heart.", {"It had no heart."}),
        ("I found it dull.", {None}),
        ("I had seen better.", {None}),
        ("It has the best cast.", {None}),
        ("It has always been fun.", {None}),
    ],
)
def test_with_objects_other_verbs_and_bare_objects(text: str, negations: set[str | None]):
    assert {negated(text, rng(seed), objects=True) for seed in range(60)} == negations


def test_without_objects_an_object_is_left_to_the_other_rules():
    # "has" is no verb of the other rules, and "there were" is their copula.
    assert {negated("The film has many funny moments.", rng(seed)) for seed in range(20)} == {None}
    made = {str(negated("There were many boring scenes.", rng(seed))) for seed in range(20)}
    assert not any(" no " in text or "single" in text for text in made)
    # A modal stays the verb to negate even with objects: "have" is not the clause's verb there.
    modal = {str(negated("You will have a great time.", rng(seed), objects=True)) for seed in range(20)}
    assert modal <= {
        "You won't have a great time.",
        "You will not have a great time.",
        "You will never have a great time.",
    }


def test_rule_sentences_draw_object_negations_only_when_asked():
    texts, logits = _sure_sentences()
    texts, logits = [*texts, "The film has many plot holes."], np.append(logits, -3.0)
    counts = {"negation_count": 8, "contrast_count": 0, "agreement_count": 0, "fragment_count": 0}

    def negations(objects: bool) -> list[str]:
        made = rule_sentences(texts, logits, **counts, seed=0, negation_objects=objects)
        return made.texts[: made.negations]

    assert any("plot hole" in text for text in negations(True))
    assert not any("plot hole" in text for text in negations(False))


@pytest.mark.parametrize(
    "text",
    [
        "It was not good.",  # already negated
        "It wasn't good.",
        "Nothing works.",
        "The plot was thin, but the cast was great.",  # two clauses: which one would turn?
        "The film is long and the story is thin.",  # two verbs
        "Would you watch it again?",  # a question
        "The film follows a family over one long summer on an island where the father was born long ago.",
        "A film.",  # nothing to negate
        "The jokes fall flat and the plot drags.",  # a plural verb beside the one a rule could negate
        "The acting was disappointing and the story drags.",  # a copula and a verdict verb
        "The cast fail.",  # a plural verb after a subject that does not look plural
        "The jokes fall flat.",  # a plural verb, which only the quantifier form negates
    ],
)
def test_sentences_a_rule_cannot_negate_unambiguously_are_left_alone(text: str):
    assert all(negated(text, rng(seed)) is None for seed in range(10))


def test_the_joined_sentence_holds_both_clauses_and_ends_on_or_is_governed_by_the_decider():
    made = {joined("The plot was predictable.", "The acting saved it!", rng(seed)) for seed in range(60)}
    assert "The plot was predictable, but the acting saved it." in made
    assert "Although the plot was predictable, the acting saved it." in made
    assert "The acting saved it, even though the plot was predictable." in made
    for text in made:
        assert "plot was predictable" in text and "cting saved it" in text and text.endswith(".")
    # "I" keeps its case inside the sentence.
    assert "I loved it" in joined("It is long.", "I loved it.", rng(1))


def _sure_sentences() -> tuple[list[str], np.ndarray]:
    texts = [
        "The acting was wooden.",
        "The plot is dull.",
        "It was a waste of time.",
        "The music was wonderful.",
        "The cast is superb.",
        "I loved it.",
        "The film is about a family.",  # unsure: never a source
    ]
    return texts, np.array([-3.0, -2.5, -4.0, 3.0, 2.5, 3.5, 0.2])


def test_each_source_gives_as_many_different_negations_as_asked_with_its_label():
    texts, logits = _sure_sentences()
    counts = {"negation_count": 100, "contrast_count": 0, "agreement_count": 0, "fragment_count": 0}

    def negations(per_source: int) -> RuleSentences:
        return rule_sentences(texts, logits, **counts, seed=0, negations_per_source=per_source)

    once, twice = negations(1), negations(2)
    # The six sure sources give one negation each, then two each, all different.
    assert once.negations == 6 and twice.negations == 12
    made = twice.texts[: twice.negations]
    assert len(set(made)) == 12
    sources = {"wooden": -3.0, "dull": -2.5, "waste": -4.0, "wonderful": 3.0, "superb": 2.5, "love": 3.5}
    for text, logit in zip(made, twice.logits[: twice.negations], strict=True):
        source = next(word for word in sources if word in text)
        assert logit == pytest.approx(-NEGATION_STRENGTH * sources[source])
    # Still as many negations as asked at most.
    fewer = {**counts, "negation_count": 4}
    assert rule_sentences(texts, logits, **fewer, seed=0, negations_per_source=2).negations == 4


def test_a_participle_or_a_noun_is_not_taken_for_the_verb_to_negate():
    # "disappointed" after "was" is not a verb of its own: the copula is negated.
    made = {negated("I was disappointed.", rng(seed)) for seed in range(20)}
    assert "I was not disappointed." in made
    assert not any(text is not None and ("didn't" in text or "did not" in text) for text in made)
    # "works" after "his" is a noun: the sentence has the one verb "are".
    assert "His works are not great." in {negated("His works are great.", rng(seed)) for seed in range(20)}


def test_agreeing_sentences_keep_both_clauses_without_a_contrast_word():
    made = {agreeing("Two hours I will never get back.", "Dull and far too long!", rng(seed)) for seed in range(40)}
    assert "Two hours I will never get back. Dull and far too long." in made
    assert "Two hours I will never get back, and dull and far too long." in made
    for text in made:
        assert "Two hours I will never get back" in text and "ull and far too long." in text
        assert not any(word in text.lower().split() for word in ("but", "however", "although", "though"))


def test_negated_sentences_take_the_flipped_softened_label_half_of_either_sign():
    texts, logits = _sure_sentences()
    made = rule_sentences(
        texts, logits, negation_count=4, contrast_count=0, agreement_count=0, fragment_count=0, seed=0
    )
    assert made.negations == 4 and made.contrasts == 0
    assert np.sum(made.logits > 0) == 2 and np.sum(made.logits < 0) == 2
    for text, logit in zip(made.texts, made.logits, strict=True):
        source = next(index for index, original in enumerate(texts) if _source_of(text, original))
        assert logit == pytest.approx(-NEGATION_STRENGTH * logits[source])
    assert not any("family" in text for text in made.texts)


def _source_of(negated_text: str, original: str) -> bool:
    """Whether a negated sentence (or its fragment) came from `original`: all its content words are there."""
    content = [word.strip(".").lower() for word in negated_text.split()]
    ignored = {"not", "never", "at", "all", "did", "didn't", "love", "no", "there", "nothing", "about", "it"}
    content = [word for word in content if word not in ignored]
    words = original.lower().strip(".").split() + ["loved"]
    return all(word in words or word.replace("n't", "") in words for word in content)


def test_joined_sentences_are_labelled_by_their_deciding_clause_half_either_way():
    texts, logits = _sure_sentences()
    made = rule_sentences(
        texts, logits, negation_count=0, contrast_count=10, agreement_count=0, fragment_count=0, seed=0
    )
    # Three sure sentences of either sign: three pairs, each joined once either way.
    assert made.contrasts == 6
    assert np.sum(made.logits > 0) == 3 and np.sum(made.logits < 0) == 3
    by_text = dict(zip(texts, logits, strict=True))
    for text, logit in zip(made.texts, made.logits, strict=True):
        decider = _deciding_clause(text)
        source = next(original for original in by_text if original.rstrip(".").lower() == decider.lower())
        assert logit == pytest.approx(CONTRAST_STRENGTH * by_text[source])


def _deciding_clause(text: str) -> str:
    body = text.rstrip(".")
    for marker in (", but ", ". But ", "; however, "):
        if marker in body:
            return body.split(marker)[1]
    if body.startswith(("Although ", "Despite the fact that ")):
        return body.split(", ", 1)[1]
    return body.split(", ")[0]


def test_agreeing_sentences_are_labelled_by_their_clauses_mean_half_either_sign():
    texts, logits = _sure_sentences()
    made = rule_sentences(
        texts, logits, negation_count=0, contrast_count=0, agreement_count=6, fragment_count=0, seed=0
    )
    assert made.agreements == 6 and made.contrasts == 0 and made.negations == 0
    assert np.sum(made.logits > 0) == 3 and np.sum(made.logits < 0) == 3
    by_text = {original.rstrip("."): logit for original, logit in zip(texts, logits, strict=True)}
    for text, logit in zip(made.texts, made.logits, strict=True):
        clauses = [original for original in by_text if original.lower() in text.lower()]
        assert len(clauses) == 2, text
        assert np.sign(by_text[clauses[0]]) == np.sign(by_text[clauses[1]])
        assert logit == pytest.approx(AGREEMENT_STRENGTH * (by_text[clauses[0]] + by_text[clauses[1]]) / 2)


def test_each_rules_texts_lie_where_its_kind_says():
    texts, logits = _sure_sentences()
    made = rule_sentences(
        texts, logits, negation_count=4, contrast_count=4, agreement_count=2, fragment_count=2, seed=0
    )
    kinds = made.kinds()
    assert list(kinds) == ["negated", "contrast", "agreement", "fragment"]
    assert [kinds[kind].stop - kinds[kind].start for kind in kinds] == [4, 4, 2, 2]
    assert kinds["negated"].start == 0 and kinds["fragment"].stop == len(made.texts)
    negations = made.texts[kinds["negated"]]
    negation_words = {"not", "never", "nothing", "no", "hardly", "none"}
    assert all(
        (negation_words & set(text.lower().split()) or "n't" in text) and not any(mark in text for mark in ",;")
        for text in negations
    )
    joined_texts = made.texts[kinds["contrast"]]
    contrast_words = ("but", "however", "although", "though", "despite")
    assert all(any(word in text.lower() for word in contrast_words) for text in joined_texts)
    # The contrasts mix signs, the agreeing pairs and fragments do not; both hold two pieces.
    for text in made.texts[kinds["agreement"]] + made.texts[kinds["fragment"]]:
        assert ". " in text or ", " in text or "; " in text, text


def test_validation_rule_texts_come_from_validation_reviews_with_every_form_of_negation():
    train = reviews_saying(("The film has many funny moments.", "The film has many plot holes."))
    validation = reviews_saying(("The sequel has many funny moments.", "The sequel has many plot holes."))
    # Training's rule leaves the object alone here; the validation texts are negated there all the same.
    config = _rules_config(negation_objects=False, negation_quantifiers=False, **NO_RULES)
    rules = teacher_labelled(train, validation, ["The film has many plot holes."], config).validation_rules
    negations = rules.texts[rules.kinds()["negated"]]
    # Negated at the object, and only validation's sentences.
    assert any("sequel" in text.lower() for text in negations) and not any("film" in text for text in negations)
    assert all(" no " in text or "single" in text or text.startswith("Not one") for text in negations)
    labels = dict(zip(negations, rules.logits[rules.kinds()["negated"]], strict=True))
    assert all((labels[text] > 0) == ("plot hole" in text) for text in negations)


def test_training_sentences_include_the_rules_output_with_counts_in_the_summary():
    reviews = reviews_saying(("The acting was superb.", "The acting was wooden."))
    unlabelled = ["It is long. The acting was wooden. The cast was superb."]
    config = _rules_config(negation_sentences=2, contrast_sentences=2, agreement_sentences=0)
    teacher = teacher_labelled(reviews, reviews, unlabelled, config)
    # One sure sentence of either sign: both negated, and joined once either way.
    assert teacher.summary["negated_sentences"] == 2 and teacher.summary["contrast_sentences"] == 2
    labels_by_text = dict(zip(teacher.texts, teacher.as_reviews().labels, strict=True))
    # The negated sentences themselves: one clause, with a negation.
    negations = [
        text for text in labels_by_text if _is_negated(text) and not any(joiner in text for joiner in (",", ";", ". "))
    ]
    assert negations
    for text in negations:
        assert (labels_by_text[text] > 0.5) == ("wooden" in text)


def test_the_training_config_asks_for_negations_in_a_speakers_words():
    reviews = reviews_saying(("The acting was superb.", "The acting was wooden."))
    unlabelled = ["It is long. The acting was wooden. The cast was superb."]

    def negations(speakers: bool, seed: int) -> list[str]:
        config = _rules_config(negation_speakers=speakers, seed=seed, **{**NO_RULES, "negation_sentences": 2})
        return teacher_labelled(reviews, reviews, unlabelled, config).texts

    assert any(_is_framed(text) for seed in range(8) for text in negations(True, seed))
    assert not any(_is_framed(text) for seed in range(8) for text in negations(False, seed))


def reviews_saying(verdicts: tuple[str, str]) -> Reviews:
    """Forty reviews of one plot, every other one ending on each verdict; the first verdict's are positive."""
    texts = [f"The story follows a family over one summer. {verdicts[index % 2]}" for index in range(40)]
    return Reviews(texts, np.array([index % 2 == 0 for index in range(40)], dtype=np.int64))


def _rules_config(**fields: Any) -> TrainConfig:
    """A config whose teachers fit a few reviews quickly and whose rules alone write sentences."""
    return replace(TrainConfig(), teacher_ngram_order=2, teacher_sentences=0, teacher_confident_sentences=0, **fields)


def _is_negated(text: str) -> bool:
    return "not" in text.lower().split() or "n't" in text or "never" in text.split()


@pytest.mark.parametrize("seed", range(4))
def test_negated_sentences_are_clauses_of_pairs_too_but_never_beside_their_own_source(seed: int):
    texts, logits = _sure_sentences()
    made = rule_sentences(
        texts, logits, negation_count=6, contrast_count=40, agreement_count=40, fragment_count=0, seed=seed
    )
    negated_sentences = [_clause_text(text) for text in made.texts[: made.negations]]
    pairs = [text.lower() for text in made.texts[made.negations :]]
    # A negated clause beside one without a negation: the pair shows where the negation's reach ends.
    assert any(
        negated_clause in pair and any(_clause_text(text) in pair for text in texts)
        for pair in pairs
        for negated_clause in negated_sentences
    )
    for original in texts:
        own_negations = {_clause_text(variant) for seed in range(40) if (variant := negated(original, rng(seed)))}
        for pair in pairs:
            # The original may be inside its own negation ("nothing about the plot was dull"), but not beside it.
            for variant in own_negations:
                assert variant not in pair or _clause_text(original) not in pair.replace(variant, ""), pair


def _clause_text(sentence: str) -> str:
    return sentence.rstrip(".").lower()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The film was dull and far too long.", "Dull and far too long."),
        ("This movie is a waste of time!", "A waste of time."),
        ("I was bored.", "Bored."),
        # A negation, a contrast, a question, a second verb or a long subject leave the label unknown.
        ("The acting was not good.", None),
        ("The plot was thin but the cast is great.", None),
        ("Was it any good?", None),
        ("It was dull and it will bore you.", None),
        ("The scene where the two brothers meet was great.", None),
        ("It fails.", None),
        ("I wish this film was longer.", None),
        ("It is, in the end, a fine film.", "In the end, a fine film."),
    ],
)
def test_fragments_keep_the_predicate_of_a_one_copula_sentence(text: str, expected: str | None):
    assert fragment(text) == expected


def test_fragment_pairs_keep_their_sign_and_half_start_with_a_negation():
    texts = [
        "Two hours I will never get back.",
        "The film was dull and far too long.",
        "This is a waste of time.",
        "The plot was thin.",
        "Do not waste your time.",
        "The acting was superb.",
        "It is a masterpiece.",
        "The score was lovely.",
        "I loved every minute.",
        "You won't be disappointed.",
    ]
    logits = np.array([-3.0, -3.5, -4.0, -2.5, -3.0, 3.0, 4.0, 2.5, 3.0, 3.5])
    made = rule_sentences(texts, logits, 0, 0, 0, fragment_count=6, seed=0)
    assert made.fragments == 6 and made.negations == made.contrasts == made.agreements == 0
    by_clause = {text.rstrip(".!").lower(): logit for text, logit in zip(texts, logits, strict=True)}
    fragments = {
        fragment(text).rstrip(".").lower(): logit for text, logit in zip(texts, logits, strict=True) if fragment(text)
    }
    starts_negated = 0
    for text, logit in zip(made.texts, made.logits, strict=True):
        first, second = text.rstrip(".").lower().split(". ")
        assert np.sign(by_clause[first]) == np.sign(fragments[second]) == np.sign(logit)
        assert logit == pytest.approx(AGREEMENT_STRENGTH * (by_clause[first] + fragments[second]) / 2)
        # A clause is never followed by its own fragment.
        assert second not in first
        starts_negated += any(word in first.split() for word in ("never", "not", "won't"))
    assert np.sum(made.logits < 0) == 3 and starts_negated >= 3
    # Where sure sentences are few, each fragment follows at most MAX_FRAGMENT_USES first clauses.
    many = rule_sentences(texts, logits, 0, 0, 0, fragment_count=10_000, seed=0)
    assert many.fragments == 2 * 3 * MAX_FRAGMENT_USES
