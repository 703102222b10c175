from __future__ import annotations

import pytest

from domain.search.index import CustomerSearchIndex, SearchHit, normalize_text, written_form

CUSTOMERS: list[tuple[str, str | None]] = [
    ("966501234567", "Ahmed Ali Hassan"),
    ("966501111111", "Ahmed Khalid"),
    ("966502222222", "Mohammed Saleh"),
    ("966503333333", "Fatima Zahra"),
    ("966504444444", "محمد العتيبي"),
    ("966505555555", "أحمد الحربي"),
    ("966506666666", "عبد الرحمن القحطاني"),
    ("966507777777", "Sarah Al-Harbi"),
    ("966508888888", None),
]


def search(query: str, limit: int = 50, min_score: float = 0.3) -> list[SearchHit]:
    return CustomerSearchIndex(CUSTOMERS).search(query, limit=limit, min_score=min_score)


def wa_ids(hits: list[SearchHit]) -> list[str]:
    return [hit.wa_id for hit in hits]


def same_script(hits: list[SearchHit]) -> list[SearchHit]:
    """The hits on the words as written (not through a transliteration: those are tested below)."""
    return [hit for hit in hits if hit.matched is None]


def test_normalize_text_folds_hamza_forms_to_bare_alef() -> None:
    assert normalize_text("أحمد إبراهيم آمنة ٱلله") == "احمد ابراهيم امنه الله"


def test_normalize_text_folds_ta_marbuta_to_ha() -> None:
    assert normalize_text("فاطمة") == "فاطمه"


def test_normalize_text_folds_alef_maqsura_to_ya() -> None:
    assert normalize_text("مصطفى") == "مصطفي"


def test_normalize_text_strips_diacritics_and_tatweel() -> None:
    assert normalize_text("مُحَمَّدٌ عـــلي") == "محمد علي"


def test_normalize_text_turns_arabic_indic_digits_into_ascii() -> None:
    assert normalize_text("٠١٢٣٤٥٦٧٨٩ ۰۱۲") == "0123456789 012"


def test_normalize_text_casefolds_and_collapses_punctuation_and_spaces() -> None:
    assert normalize_text("  Sarah   AL-Harbi!! (José) ") == "sarah al harbi jose"


def test_arabic_name_with_hamza_matches_query_without_it() -> None:
    assert same_script(search("احمد")) == [SearchHit("966505555555", 1.0)]


def test_arabic_query_with_ha_finds_name_written_with_ta_marbuta() -> None:
    index = CustomerSearchIndex([("966500000001", "فاطمة الزهراء"), ("966500000002", "مصطفى")])
    assert wa_ids(index.search("فاطمه")) == ["966500000001"]


def test_arabic_query_with_ya_finds_name_written_with_alef_maqsura() -> None:
    index = CustomerSearchIndex([("966500000001", "فاطمة الزهراء"), ("966500000002", "مصطفى")])
    assert index.search("مصطفي") == [SearchHit("966500000002", 1.0)]


def test_arabic_name_differing_by_one_letter_is_not_matched() -> None:
    assert "966505555555" not in wa_ids(search("محمد"))


def test_arabic_family_name_finds_customer() -> None:
    assert wa_ids(search("العتيبي")) == ["966504444444"]


def test_arabic_compound_name_matches_when_written_joined() -> None:
    assert wa_ids(search("عبدالرحمن")) == ["966506666666"]


def test_english_full_name_scores_one() -> None:
    assert search("fatima zahra") == [SearchHit("966503333333", 1.0)]


def test_english_name_is_case_insensitive() -> None:
    assert wa_ids(same_script(search("MOHAMMED"))) == ["966502222222"]


def test_partial_name_matches_token_prefix() -> None:
    assert wa_ids(search("moh")) == ["966502222222"]


def test_partial_last_word_of_multi_word_query_matches() -> None:
    assert search("ahmed ali ha")[0].wa_id == "966501234567"


def test_typo_with_missing_letter_still_matches() -> None:
    # Found as the same name (one letter off: 0.85); "محمد" comes first, the same name in the other script (0.95).
    assert wa_ids(search("mohamed"))[:2] == ["966504444444", "966502222222"]


def test_typo_fatma_matches_fatima() -> None:
    assert wa_ids(search("Fatma")) == ["966503333333"]


def test_multi_token_query_ranks_customer_with_every_word_first() -> None:
    assert same_script(search("ahmed ali")) == [SearchHit("966501234567", 1.0), SearchHit("966501111111", 0.5)]


def test_particle_written_apart_or_joined_finds_same_customer() -> None:
    assert wa_ids(search("sarah alharbi"))[:1] == wa_ids(search("Sarah Al Harbi"))[:1] == ["966507777777"]
    assert wa_ids(same_script(search("sarah alharbi"))) == ["966507777777"]


def test_exact_word_scores_one_however_many_words_the_name_has() -> None:
    assert same_script(search("ahmed")) == [SearchHit("966501111111", 1.0), SearchHit("966501234567", 1.0)]


def test_exact_word_outranks_prefix_and_typo() -> None:
    index = CustomerSearchIndex([("1", "Mohammed"), ("2", "Mohammedali"), ("3", "Mohamed")])
    assert wa_ids(index.search("mohammed")) == ["1", "2", "3"]


def test_digit_fragment_scores_point_nine() -> None:
    assert search("1234") == [SearchHit("966501234567", 0.9)]


def test_digit_fragment_with_arabic_indic_digits_matches() -> None:
    assert search("٢٢٢٢") == [SearchHit("966502222222", 0.9)]


def test_digit_fragment_hits_are_ordered_by_wa_id() -> None:
    assert wa_ids(search("9665", limit=3)) == ["966501111111", "966501234567", "966502222222"]


def test_full_number_with_plus_and_spaces_scores_one() -> None:
    assert search("+966 50-123 4567") == [SearchHit("966501234567", 1.0)]


def test_local_number_with_trunk_zero_matches_wa_id() -> None:
    assert search("050 123 4567") == [SearchHit("966501234567", 0.9)]


def test_customer_without_name_is_found_by_number() -> None:
    assert search("8888") == [SearchHit("966508888888", 0.9)]


def test_digit_query_shorter_than_three_digits_returns_nothing() -> None:
    assert search("96") == []


def test_threshold_drops_weak_matches() -> None:
    assert wa_ids(search("ahmed ali", min_score=0.6)) == ["966501234567"]


def test_unrelated_query_returns_nothing() -> None:
    assert search("zzzz") == []


def test_limit_caps_number_of_hits() -> None:
    assert len(search("9665", limit=2)) == 2


def test_hits_are_ordered_by_score_descending() -> None:
    scores = [hit.score for hit in search("ahmed")]
    assert scores == sorted(scores, reverse=True)


def test_empty_query_returns_nothing() -> None:
    assert search("") == []


def test_punctuation_only_query_returns_nothing() -> None:
    assert search(" - + ") == []


def test_upsert_renames_customer() -> None:
    index = CustomerSearchIndex(CUSTOMERS)
    index.upsert("966503333333", "Noura Saad")
    assert wa_ids(index.search("noura")) == ["966503333333"]
    assert index.search("fatima") == []


def test_upsert_adds_new_customer() -> None:
    index = CustomerSearchIndex(CUSTOMERS)
    index.upsert("966509999999", "Yousef Omar")
    assert (len(index), wa_ids(index.search("yousef"))) == (10, ["966509999999"])


def test_remove_drops_customer_from_name_and_number_search() -> None:
    index = CustomerSearchIndex(CUSTOMERS)
    index.remove("966502222222")
    assert (index.search("2222"), len(index)) == ([], 8)
    assert "966502222222" not in wa_ids(index.search("mohammed saleh"))  # nor through its transliteration


def test_remove_of_unknown_customer_is_a_no_op() -> None:
    index = CustomerSearchIndex(CUSTOMERS)
    index.remove("966500000000")
    assert len(index) == 9


def test_add_rejects_already_indexed_customer() -> None:
    index = CustomerSearchIndex(CUSTOMERS)
    with pytest.raises(ValueError):
        index.add("966501234567", "Someone Else")


def test_new_token_added_after_build_is_found_by_prefix() -> None:
    index = CustomerSearchIndex(CUSTOMERS)
    index.add("966509999999", "Zainab Qasim")
    assert wa_ids(index.search("zai")) == ["966509999999"]


def test_a_query_of_many_words_is_searched_by_its_first_six_and_two_lone_letters_at_most() -> None:
    index = CustomerSearchIndex([("966500000001", "Mohammed Ali Saleh"), ("966500000002", "Sara Khan")])
    long_query = "Mohammed Ali " + "x y z " * 30 + "Saleh " * 20
    assert index.search(long_query) == index.search("Mohammed Ali x y Saleh Saleh")
    assert index.search("9" * 200) == index.search("9" * 17)


# Twenty names as customers write them in Latin letters, and as their families write them in Arabic.
PAIRS = [("Fahad", "فهد"), ("Mohammed", "محمد"), ("Muhammad", "محمد"), ("Mohamed", "محمد"), ("Ahmed", "أحمد"),
         ("Omar", "عمر"), ("Khalid", "خالد"), ("Fatima", "فاطمة"), ("Aisha", "عائشة"), ("Youssef", "يوسف"),
         ("Abdullah", "عبدالله"), ("Hassan", "حسن"), ("Noura", "نورة"), ("Sara", "سارة"), ("Ibrahim", "إبراهيم"),
         ("Tariq", "طارق"), ("Khadija", "خديجة"), ("Faisal", "فيصل"), ("Othman", "عثمان"), ("Zainab", "زينب")]


@pytest.mark.parametrize(("latin", "arabic"), PAIRS)
def test_a_name_is_found_in_the_other_script_and_the_hit_says_which_form_matched(latin: str, arabic: str) -> None:
    index = CustomerSearchIndex([("1", f"{arabic} القحطاني"), ("2", f"{latin} Haddad"), ("3", "Unrelated Person")])
    [arabic_hit] = [h for h in index.search(latin) if h.wa_id == "1"]
    [latin_hit] = [h for h in index.search(arabic) if h.wa_id == "2"]
    assert (arabic_hit.matched, arabic_hit.score) == (normalize_text(arabic), 0.95)
    assert (latin_hit.matched, latin_hit.score) == (normalize_text(latin), 0.95)
    assert written_form(f"{arabic} القحطاني", arabic_hit.matched or "") == arabic
    assert "3" not in wa_ids(index.search(latin)) + wa_ids(index.search(arabic))


def test_the_name_as_written_outranks_its_transliteration() -> None:
    index = CustomerSearchIndex([("1", "فهد"), ("2", "Fahad")])
    assert index.search("Fahad") == [SearchHit("2", 1.0), SearchHit("1", 0.95, "فهد")]
    assert index.search("فهد") == [SearchHit("1", 1.0), SearchHit("2", 0.95, "fahad")]


def test_a_two_letter_query_does_not_reach_across_scripts() -> None:
    index = CustomerSearchIndex([("1", "علي"), ("2", "ليلى")])
    assert index.search("al") == []


def test_a_full_name_across_scripts_names_every_word_it_matched() -> None:
    index = CustomerSearchIndex([("1", "محمد عبد الرحمن الحربي")])
    [hit] = index.search("Mohamed Abdulrahman Alharbi")
    assert (hit.score, hit.matched) == (0.95, "محمد عبدالرحمن الحربي")
    assert written_form("محمد عبد الرحمن الحربي", hit.matched or "") == "محمد عبد الرحمن الحربي"


def test_a_renamed_customer_is_found_by_the_new_names_transliteration_only() -> None:
    index = CustomerSearchIndex([("1", "فهد")])
    index.upsert("1", "خالد")
    assert index.search("Fahad") == [] and index.search("Khalid") == [SearchHit("1", 0.95, "خالد")]


def test_among_many_of_one_skeleton_the_first_by_number_come_back() -> None:
    index = CustomerSearchIndex([(f"9665{n:08d}", "محمد") for n in range(500)] + [("9660", "Mohammed")])
    hits = index.search("Mohammed", limit=5)
    assert [h.wa_id for h in hits] == ["9660", *[f"9665{n:08d}" for n in range(4)]]
    assert [h.score for h in hits] == [1.0, 0.95, 0.95, 0.95, 0.95]


@pytest.mark.parametrize("family", ["Harbi", "Alharbi", "Al-Harbi", "Al Harbi", "El Harbi", "الحربي", "حربي"])
def test_a_family_name_is_found_with_or_without_its_article_in_either_script(family: str) -> None:
    index = CustomerSearchIndex([("1", "سارة الحربي"), ("2", "Sara Al-Harbi"), ("3", "Sara Al-Hajri")])
    assert set(wa_ids(index.search(f"Sara {family}"))[:2]) == {"1", "2"}


def test_a_full_name_in_the_other_script_comes_before_a_different_name_that_shares_a_word() -> None:
    index = CustomerSearchIndex([("1", "Hassan Al-Subaie"), ("2", "Majed Hassan Al-Subaie"), ("9", "حسين السبيعي")])
    assert index.search("Husain Al-Subaie")[0] == SearchHit("9", 0.95, "حسين السبيعي")


def test_among_equal_scores_the_name_with_fewer_other_words_comes_first() -> None:
    index = CustomerSearchIndex([("1", "راشد فهد الرشيدي"), ("2", "فهد الرشيدي"), ("3", "فهد رشيد الرشيدي")])
    assert wa_ids(index.search("Fahad Al-Rashidi")) == ["2", "1", "3"]


def test_ali_keeps_its_skeleton_and_is_not_taken_for_an_article() -> None:
    index = CustomerSearchIndex([("1", "علي"), ("2", "Ali")])
    assert index.search("Ali") == [SearchHit("2", 1.0), SearchHit("1", 0.95, "علي")]
