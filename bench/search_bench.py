"""Time the fuzzy customer search over 100,000 deterministic customers; prints one JSON line:
- the index alone (`CustomerSearchIndex.search`);
- through the service (`PhoneSearchService.search`, as the tools call it: the index, then each hit's
  details from the database), on SQLite and, when DATABASE_URL_POSTGRES is set, on PostgreSQL (a
  database of its own, created and dropped);
- through the tool (`system_get_reservations` with `search_query`, every section and customers only, over the
  real tools server in memory), in turns with the service's own search, and the ratio.

Run from the repository root: `.venv/bin/python bench/search_bench.py`.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import tempfile
import uuid
from datetime import UTC, datetime
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from calendar_agent.migrate import upgrade  # noqa: E402
from domain.config import ClinicConfig  # noqa: E402
from domain.storage.database import create_database  # noqa: E402
from domain.storage.models import Customer  # noqa: E402
from domain.services import build_services  # noqa: E402
from mcp import Client  # noqa: E402
from mcp_server.system_server import build_system_server  # noqa: E402
from domain.search.index import CustomerSearchIndex  # noqa: E402

SEED = 20240601
TOOL = "system_get_reservations"  # a fuzzy search as a model makes it: its matches, their bookings and details
CUSTOMERS = 100_000
TYPO_SHARE = 0.05  # WhatsApp profile names are typed by hand: some are misspelt.
NAMELESS_SHARE = 0.03

ARABIC_FIRST = """
محمد أحمد عبدالله عبدالرحمن عبدالعزيز خالد فهد سعود سلطان فيصل تركي نايف بندر ماجد سعد عمر علي حسن
حسين إبراهيم يوسف يعقوب إسماعيل إسحاق موسى عيسى هارون داود سليمان زكريا يحيى صالح ناصر منصور مشعل
متعب طلال وليد هشام هاني رامي سامي سامر ماهر باسم بسام جمال كمال عادل عامر عمار ياسر ياسين طارق زياد
رياض مازن معاذ أنس أيمن أسامة حمزة عثمان مصطفى محمود مراد نبيل نادر نواف راكان ريان سلمان سالم حمد
حامد راشد رشيد مبارك مساعد مشاري مهند مؤيد نزار وائل وسام أسعد أمين أكرم بدر بكر ثامر جابر جاسم جعفر
حاتم حازم حمود خليل رائد زايد زيد سعيد شادي شريف صقر ضياء عاصم عبدالإله عبدالمجيد عبدالكريم
عبداللطيف عبدالملك عزام عصام غازي غسان فارس فراس فواز قاسم لؤي مالك مجدي مروان معتز منير مهدي هادي
هيثم فاطمة عائشة خديجة مريم زينب نورة سارة هند لمى ريم رنا ليلى سلمى منى هدى نوف أمل جواهر العنود
الجوهرة حصة لطيفة موضي شهد غادة دانة رغد روان رهف ريما لينا ميار ميساء نجلاء نجود هيا هيفاء وفاء
أسماء آمنة آلاء إيمان بشرى تهاني جميلة حنان خلود دلال رحاب رقية زهراء سمية سعاد سهى شيماء صفية عبير
عفاف غدير فدوى كوثر لبنى مها ملاك منيرة نادية نسرين نهى هالة وعد ياسمين أروى بيان تسنيم جنى ديما رؤى
سديم شذى عهود لجين مرام مشاعل نوال
"""
ARABIC_FAMILY = """
العتيبي الحربي القحطاني الغامدي الزهراني الشهري الدوسري المطيري الشمري العنزي السبيعي البقمي الرشيدي
الجهني الحارثي المالكي العمري الأحمدي السهلي الخالدي التميمي الشهراني القرني العسيري الفيفي اليامي
المري الهاجري العجمي الظفيري الرويلي البلوي العطوي الحويطي السلمي الثقفي الزبيدي الصاعدي المولد
الأنصاري الجابري السديري الفيصل المهنا الراجحي العليان الجفالي الزامل القصيبي الدباغ باعشن باخشب
باوزير بامحرز العمودي الكثيري السقاف الحبشي الجفري العيدروس بافقيه الهاشمي الحسيني الشريف الموسوي
النجار الحداد الخياط العطار الصباغ الطحان الحلبي الشامي المصري البغدادي المغربي التونسي اليمني
العراقي الكويتي البحريني السوداني الأردني الفلسطيني اللبناني السوري الليبي الجزائري الحسن العلي
الصالح المحمد العبدالله الفهد الناصر المنصور السالم الراشد الخليفة الصباح المبارك الغانم المطوع
الخرافي الشايع البابطين العثمان اليوسف الإبراهيم الحمد العيسى الموسى الرميح الرميثي الكعبي النعيمي
السويدي المزروعي المنصوري الظاهري الشامسي النقبي الحمادي البلوشي الزعابي الكتبي المهيري الفلاسي
القبيسي العامري البوسعيدي الهنائي الرواحي البطاشي الكندي الصيعري المهري الحضرمي الكلدي باحاذق
بادحمان العوضي الشطي الرفاعي الصقر الدخيل الفوزان العقيل البسام السعدون المشعل الطريقي الثنيان
الجريسي المقرن السيف الضبيب الهذلول العساف التويجري الحقيل الخضيري السحيباني العبيكان الدغيثر الماجد
البراك القاضي الدريس الحمدان الشثري المنيف الرشود الوابل الخميس آل_سعود آل_الشيخ آل_ثاني آل_نهيان
بن_لادن بن_محفوظ عبد_الجبار أبو_زيد أبو_طالب الشمراني العصيمي الحازمي النفيعي الخثعمي الأسمري البارقي
الشلوي المحيسن الجبرين الحميد الزير الشبل العجلان الفريح القرشي الصبحي اللحياني
"""
ENGLISH_FIRST = """
Mohammed Mohamed Muhammad Ahmed Ahmad Abdullah Abdulrahman Abdulaziz Khalid Fahad Saud Sultan Faisal
Turki Nayef Bandar Majed Saad Omar Ali Hassan Hussein Ibrahim Yousef Yusuf Ismail Musa Suleiman
Yahya Saleh Nasser Mansour Mishal Talal Waleed Hisham Hani Rami Sami Samer Maher Basem Jamal Kamal
Adel Amer Ammar Yasser Yaseen Tariq Ziad Riyadh Mazen Muath Anas Ayman Osama Hamza Othman Mustafa
Mahmoud Murad Nabil Nader Nawaf Rakan Rayan Salman Salem Hamad Rashed Mubarak Mishari Mohannad Nizar
Wael Amin Akram Badr Thamer Jaber Jassim Hatem Hazem Khalil Raed Zayed Saeed Shadi Sharif Essam
Ghazi Ghassan Fares Firas Fawaz Qasim Malik Marwan Mahdi Haitham Fatima Fatma Aisha Khadija Maryam
Zainab Noura Sara Sarah Hind Lama Reem Rana Layla Salma Mona Huda Nouf Amal Jawaher Hessa Latifa
Shahad Ghada Dana Raghad Rawan Rahaf Rima Lina Najla Haya Haifa Wafa Asma Amna Iman Bushra Hanan
Dalal Zahra Sumaya Abeer Maha Munira Nadia Nisreen Noha Hala Yasmin Arwa Tasneem Jana Dima Lujain
Maram Nawal John James Michael David Robert William Richard Thomas Daniel Matthew Anthony Mark Paul
Steven Andrew Kevin Brian George Edward Peter Jason Ryan Jacob Nicholas Emily Emma Olivia Sophia
Isabella Mia Charlotte Amelia Evelyn Abigail Elizabeth Victoria Grace Chloe Hannah Natalie Jessica
Jennifer Linda Patricia Susan Karen Lisa Margaret Sandra Ashley Michelle Laura Rachel Rebecca Julia
Anna Maria Priya Raj Arjun Rohan Anil Ravi Imran Bilal Usman Zubair Jose Carlos Juan Luis Miguel
"""
ENGLISH_FAMILY = """
Al-Harbi Al-Otaibi Al-Qahtani Al-Ghamdi Al-Zahrani Al-Shehri Al-Dosari Al-Mutairi Al-Shammari
Al-Anazi Al-Subaie Al-Rashidi Al-Juhani Al-Harthi Al-Malki Al-Omari Al-Ahmadi Al-Sahli Al-Khalidi
Al-Tamimi Al-Shahrani Al-Qarni Al-Asiri Al-Yami Al-Marri Al-Hajri Al-Ajmi Al-Dhafiri Al-Ruwaili
Al-Balawi Al-Atawi Al-Huwaiti Al-Sulami Al-Zubaidi Al-Ansari Al-Jaberi Al-Sudairi Alharbi Alotaibi
Alqahtani Alghamdi Alzahrani Alshehri Aldosari Almutairi Bin_Laden Bin_Mahfouz Bakhashab Bawazir
Al-Amoudi Al-Kathiri Al-Saqqaf Al-Hashimi Al-Husseini Al-Najjar Al-Haddad Al-Khayyat Al-Attar
Al-Halabi Al-Shami Al-Masri Al-Baghdadi Al-Maghribi Al-Tunisi Al-Yamani Hassan Hussein Ibrahim
Mahmoud Mustafa Saleh Abdullah Abdelrahman Abdulaziz Othman Youssef Salem Nasser Mansour Rashid
Khalil Haddad Nasr Farouk Kamel Fawzi Hamdan Hamdi Sabri Shukri Zaki Qureshi Siddiqui Khan Malik
Chaudhry Sheikh Ansari Rahman Hussain Akhtar Iqbal Butt Mirza Patel Sharma Singh Kumar Gupta Reddy
Nair Menon Iyer Das Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez
Hernandez Lopez Gonzalez Wilson Anderson Taylor Moore Jackson Martin Lee Thompson White Harris Clark
Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson
Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz
Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper
Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Wood Bennett Gray
Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Santos Abdel_Fattah Abu_Bakr El_Sayed
"""
# Spelling variants and joined/apart particles a receptionist actually types.
VARIANT_QUERIES = [
    "mohamed", "muhammad", "fatma", "abdul rahman", "al harbi", "alotaibi", "yousif", "aysha",
    "عبد الله", "أحمد الحربي", "فاطمه", "مصطفي", "ال سعود", "khaled", "maryam al", "نوره",
    "abdel rahman", "el sayed", "hussain", "zeinab",
]


def pool(words: str) -> list[str]:
    """Distinct names of a pool; '_' joins a multi-word family name."""
    return list(dict.fromkeys(word.replace("_", " ") for word in words.split()))


def misspell(word: str, rng: random.Random) -> str:
    """`word` with one letter dropped, doubled or swapped with its neighbour."""
    if len(word) < 4:
        return word
    at = rng.randrange(1, len(word) - 1)
    edit = rng.choice(("drop", "double", "swap"))
    if edit == "drop":
        return word[:at] + word[at + 1 :]
    if edit == "double":
        return word[:at] + word[at] + word[at:]
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def person_name(rng: random.Random, first: list[str], family: list[str]) -> str:
    """First name, sometimes a father's or middle name, usually a family name."""
    parts = [rng.choice(first)]
    if rng.random() < 0.4:
        parts.append(rng.choice(first))
    if rng.random() < 0.9:
        parts.append(rng.choice(family))
    if rng.random() < TYPO_SHARE:
        parts[0] = misspell(parts[0], rng)
    return " ".join(parts)


def build_customers(rng: random.Random) -> list[tuple[str, str | None]]:
    arabic = (pool(ARABIC_FIRST), pool(ARABIC_FAMILY))
    english = (pool(ENGLISH_FIRST), pool(ENGLISH_FAMILY))
    wa_ids: set[str] = set()
    while len(wa_ids) < CUSTOMERS:
        wa_ids.add(f"9665{rng.randrange(10**8):08d}")
    shuffled = sorted(wa_ids)  # sorted first: set order changes with the process's hash seed
    rng.shuffle(shuffled)
    customers: list[tuple[str, str | None]] = []
    for wa_id in shuffled:
        first, family = arabic if rng.random() < 0.5 else english
        name = None if rng.random() < NAMELESS_SHARE else person_name(rng, first, family)
        customers.append((wa_id, name))
    return customers


def build_queries(rng: random.Random, customers: list[tuple[str, str | None]]) -> list[str]:
    """~200 queries: full, Arabic, partial, typo'd, variant names and digit fragments."""
    named = [name for _, name in customers if name]
    arabic = [name for name in named if "\u0600" <= name[0] <= "\u06ff"]
    words = [name.split() for name in rng.sample(named, 60)]
    queries = rng.sample(named, 30) + rng.sample(arabic, 30)
    queries += [parts[0][: rng.randint(3, 5)] for parts in words[:30]]
    queries += [f"{parts[0]} {parts[-1][:3]}" for parts in words[30:]]
    typed = [name.split()[:2] for name in rng.sample(named, 30)]
    queries += [" ".join(misspell(word, rng) for word in words) for words in typed]
    queries += VARIANT_QUERIES
    numbers = [wa_id for wa_id, _ in rng.sample(customers, 30)]
    queries += [wa_id[(at := rng.randint(3, 7)) : at + rng.randint(4, 7)] for wa_id in numbers[:15]]
    queries += [f"+{wa_id[:3]} {wa_id[3:5]} {wa_id[5:8]} {wa_id[8:]}" for wa_id in numbers[15:25]]
    queries += [wa_id[-3:] for wa_id in numbers[25:]]
    return queries


def time_searches(index: CustomerSearchIndex, queries: list[str]) -> list[float]:
    for query in queries:  # warm-up: first-touch allocations are not what a user waits on
        index.search(query)
    durations = []
    for query in queries:
        started = time.perf_counter()
        index.search(query)
        durations.append((time.perf_counter() - started) * 1000)
    return durations


async def through_service(url: str, customers: list[tuple[str, str | None]], queries: list[str]) -> dict[str, float]:
    upgrade(url)
    db = create_database(url)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    async with db.unit_of_work() as session:
        for start in range(0, len(customers), 10_000):
            await session.execute(insert(Customer), [{"wa_id": w, "name": n, "created_at": now}
                                                     for w, n in customers[start:start + 10_000]])
    services = build_services(ClinicConfig(), db, lambda: now)
    service = services.search
    for query in queries:  # warm-up, the index built by the first
        await service.search(query)
    durations, tool, customers_tool = [], [], []
    async with Client(build_system_server(services, services.batch, services.queries)) as client:
        for query in queries:  # in turns, so that the machine's load falls on each alike
            started = time.perf_counter()
            await service.search(query)
            durations.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            result = await client.call_tool(TOOL, {"search_query": query})
            tool.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await client.call_tool(TOOL, {"search_query": query, "include": ["customers"]})
            customers_tool.append((time.perf_counter() - started) * 1000)
            assert not result.is_error, result.content
    await db.dispose()
    p50 = statistics.median(durations)
    return {"p50_ms": round(p50, 3), "p95_ms": round(statistics.quantiles(durations, n=20)[18], 3),
            "tool_p50_ms": round(statistics.median(tool), 3),
            "tool_ratio": round(statistics.median(tool) / p50, 2),
            "tool_customers_only_p50_ms": round(statistics.median(customers_tool), 3),
            "tool_customers_only_ratio": round(statistics.median(customers_tool) / p50, 2)}


async def service_figures(customers: list[tuple[str, str | None]], queries: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        out["sqlite"] = await through_service(f"sqlite+aiosqlite:///{folder}/search.db", customers, queries)
    if admin := os.environ.get("DATABASE_URL_POSTGRES"):
        name = f"search_bench_{uuid.uuid4().hex[:8]}"
        plain = admin.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(plain)
        await connection.execute(f"CREATE DATABASE {name}")
        try:
            out["postgres"] = await through_service(admin.rsplit("/", 1)[0] + "/" + name, customers, queries)
        finally:
            await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await connection.close()
    return out


def main() -> None:
    rng = random.Random(SEED)
    customers = build_customers(rng)
    queries = build_queries(rng, customers)
    started = time.perf_counter()
    index = CustomerSearchIndex(customers)
    build_ms = (time.perf_counter() - started) * 1000
    durations = time_searches(index, queries)
    report = {
        "customers": len(index),
        "build_ms": round(build_ms, 1),
        "p50_ms": round(statistics.median(durations), 3),
        "p95_ms": round(statistics.quantiles(durations, n=20)[18], 3),
        "max_ms": round(max(durations), 3),
        "queries": len(queries),
        "through_service": asyncio.run(service_figures(customers, queries)),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
