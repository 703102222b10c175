"""Names across scripts: Latin-spelled Arabic full names finding the customer written in Arabic script.

A generated set: for each of 30 customers with a two-part Arabic name (a first name and a family name, from the
common ones below, each pair used once), one query spelling that name in Latin letters, its spelling of each part
drawn from the several that people actually write ("Mohammed", "Muhammad", "Mohamed"; "Al-Ghamdi", "Alghamdi",
"Al Ghamdi", "Ghamdi"). The 30 customers are added to the 100,000 of `search_bench.py` (any of those whose name
holds both names of one of the 30, in either script, is left out, so each query has one right answer), and each
query is searched through the
customer search index. Prints JSON:
- recall: queries whose customer is in the top 10 (the target: at least 28 of 30);
- precision: queries whose first hit is their customer, and the mean rank of the customer where found (1 is
  first), beside recall;
- each miss, with the hits that came first.

    .venv/bin/python bench/scripts_bench.py
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from domain.search.index import CustomerSearchIndex  # noqa: E402
from search_bench import SEED, build_customers  # noqa: E402

# Each Arabic name with the Latin spellings people write for it.
FIRST = {
    "محمد": ["Mohammed", "Muhammad", "Mohamed", "Mohammad"],
    "أحمد": ["Ahmed", "Ahmad"],
    "عبدالله": ["Abdullah", "Abdallah", "Abdulla", "Abdallah"],
    "عبدالرحمن": ["Abdulrahman", "Abdul Rahman", "Abdelrahman", "Abdurrahman"],
    "عبدالعزيز": ["Abdulaziz", "Abdul Aziz", "Abdelaziz"],
    "خالد": ["Khalid", "Khaled"],
    "فهد": ["Fahad", "Fahd"],
    "فيصل": ["Faisal", "Faysal", "Feisal"],
    "يوسف": ["Yousef", "Yusuf", "Youssef", "Yousif"],
    "إبراهيم": ["Ibrahim", "Ebrahim"],
    "عمر": ["Omar", "Umar"],
    "حسين": ["Hussein", "Hussain", "Husain"],
    "ناصر": ["Nasser", "Nasir", "Naser"],
    "سلطان": ["Sultan"],
    "فاطمة": ["Fatima", "Fatimah", "Fatma"],
    "عائشة": ["Aisha", "Aysha", "Aicha"],
    "نورة": ["Noura", "Norah", "Nora"],
    "مريم": ["Maryam", "Mariam"],
    "سارة": ["Sara", "Sarah"],
    "ريم": ["Reem", "Rim"],
}
FAMILY = {
    "الغامدي": ["Alghamdi", "Al-Ghamdi", "Al Ghamdi", "Ghamdi"],
    "العتيبي": ["Alotaibi", "Al-Otaibi", "Al Otaibi", "Otaibi"],
    "القحطاني": ["Alqahtani", "Al-Qahtani", "Al Qahtani", "Qahtani"],
    "الحربي": ["Alharbi", "Al-Harbi", "Al Harbi", "Harbi"],
    "الزهراني": ["Alzahrani", "Al-Zahrani", "Zahrani"],
    "الشهري": ["Alshehri", "Al-Shehri", "Al Shahri", "Shehri"],
    "الدوسري": ["Aldosari", "Al-Dosari", "Al Dossary", "Dosari"],
    "المطيري": ["Almutairi", "Al-Mutairi", "Mutairi"],
    "الشمري": ["Alshammari", "Al-Shammari", "Shammari"],
    "العنزي": ["Alanazi", "Al-Anazi", "Al Enezi", "Anazi"],
    "السبيعي": ["Alsubaie", "Al-Subaie", "Subaie"],
    "التميمي": ["Altamimi", "Al-Tamimi", "Tamimi"],
    "الأنصاري": ["Alansari", "Al-Ansari", "Ansari"],
    "المالكي": ["Almalki", "Al-Malki", "Al Maliki", "Malki"],
    "الرشيدي": ["Alrashidi", "Al-Rashidi", "Al Rasheedi", "Rashidi"],
}
QUERIES = 30
TOP = 10


def the_set(rng: random.Random) -> list[tuple[str, str, str, str, str]]:
    """(wa_id, Arabic name, Latin query, Arabic first, Arabic family) for 30 distinct name pairs."""
    pairs = [(first, family) for first in FIRST for family in FAMILY]
    rng.shuffle(pairs)
    chosen = []
    for n, (first, family) in enumerate(pairs[:QUERIES]):
        query = f"{rng.choice(FIRST[first])} {rng.choice(FAMILY[family])}"
        chosen.append((f"9665990{n:05d}", f"{first} {family}", query, first, family))
    return chosen


def shares_both(name: str | None, first: str, family: str) -> bool:
    """Whether a hit's name holds the query's first and family name, in Arabic or in one of their spellings."""
    if not name:
        return False
    folded = name.lower().replace("-", " ")
    firsts = [first, *[s.lower() for s in FIRST[first]]]
    families = [family, *[s.lower().replace("-", " ") for s in FAMILY[family]]]
    return any(f in folded for f in firsts) and any(f in folded for f in families)


def main() -> None:
    rng = random.Random(SEED)
    people = the_set(random.Random(SEED + 1))
    # Each query has one right answer: no other customer holds both of its names, in either script.
    customers = [(w, n) for w, n in build_customers(rng)
                 if not any(shares_both(n, first, family) for _, _, _, first, family in people)]
    everyone = dict(customers) | {w: arabic for w, arabic, _, _, _ in people}
    index = CustomerSearchIndex([*customers, *[(w, arabic) for w, arabic, _, _, _ in people]])
    found = first = 0
    ranks: list[int] = []
    misses: list[dict[str, Any]] = []
    for wa_id, arabic, query, _, _ in people:
        hits = index.search(query, limit=TOP)
        ranked = [hit.wa_id for hit in hits]
        found += wa_id in ranked
        first += bool(ranked) and ranked[0] == wa_id
        if wa_id in ranked:
            ranks.append(ranked.index(wa_id) + 1)
        if wa_id not in ranked:
            misses.append({"query": query, "customer": arabic,
                           "top": [[everyone.get(h.wa_id), round(h.score, 3)] for h in hits[:3]]})
    print(json.dumps({"bench": "Latin-spelled Arabic full names", "customers": len(index), "queries": QUERIES,
                      "recall_top_10": found, "precision_first_hit": first,
                      "mean_rank_where_found": round(sum(ranks) / max(1, len(ranks)), 2),
                      "misses": misses}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
