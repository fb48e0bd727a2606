"""Synthetic near-duplicate collections with known groups, for benchmarks at any scale.

:func:`make_near_duplicates` writes ``n`` texts in English and Russian, news-like headlines
and marketplace-like product titles, composed from word lists in this module (nothing is
downloaded). Texts come in groups: one clean *base* text and its *variants*, each derived
from the base by edits of the kinds that make real near-duplicates:

- OCR-like character noise: confusable sequences (``rn``→``m``, ``l``→``1``, ``O``→``0``),
  Cyrillic/Latin homoglyphs (``а``/``a``, ``о``/``o``, ``с``/``c``), dropped and doubled
  characters, lost or extra spaces;
- word deletions;
- abridgement (the text cut after 55-90% of its words);
- word reorderings (adjacent swaps, a word moved elsewhere);
- case and punctuation changes.

Group sizes follow a skewed distribution (most groups are singletons, some groups have 2-10
members, mostly small). Negatives are hard on purpose: every base is drawn from a few dozen
templates, so unrelated texts share most of their words with many others and differ in a brand,
a model code, a number or a city ("Samsung Galaxy A54 8GB 256GB" vs "... 8GB 128GB" are
different products and different groups). Group labels are the ground truth: texts with the
same label derive from the same base, and no two bases are equal after normalisation.

Output is deterministic for a seed (Python's ``random.Random``, whose sequence is fixed across
platforms and versions for the calls used here), and texts are shuffled so that groups are not
contiguous.
"""

from __future__ import annotations

import operator
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from neardup.errors import InputError
from neardup.text import normalize

__all__ = ["LANGUAGES", "SyntheticCollection", "make_near_duplicates"]

LANGUAGES: tuple[str, ...] = ("en", "ru")
KINDS: tuple[str, ...] = ("news", "product")


@dataclass(frozen=True)
class SyntheticCollection:
    """Texts with known duplicate groups.

    ``groups[i]`` is the group of ``texts[i]``: texts sharing a group derive from one base text.
    ``base[i]`` is the row of that group's base text, ``is_base[i]`` whether row ``i`` is it,
    ``languages[i]``/``kinds[i]`` the language and text kind, and ``edits[i]`` the edit kinds
    applied to derive the row (empty for a base).
    """

    texts: list[str]
    ids: list[str]
    groups: np.ndarray  # int64 group label per row, 0..n_groups-1
    base: np.ndarray  # int64 row of the group's base text
    is_base: np.ndarray  # bool
    languages: list[str]
    kinds: list[str]
    edits: list[tuple[str, ...]]
    seed: int
    noise: float

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def n_groups(self) -> int:
        return int(self.groups.max()) + 1 if self.groups.size else 0

    def group_sizes(self) -> np.ndarray:
        """Members per group (int64, indexed by group label)."""
        return np.bincount(self.groups, minlength=self.n_groups)

    def n_duplicate_pairs(self) -> int:
        """Number of same-group row pairs (the positives pair F1 is measured against)."""
        sizes = self.group_sizes().astype(np.int64)
        return int((sizes * (sizes - 1) // 2).sum())


# --------------------------------------------------------------------------------------------
# Word lists. Russian slot fillers are written in the grammatical form their slot needs
# (prepositional city, genitive noun), so templates need no morphology.
# --------------------------------------------------------------------------------------------

_EN_FIRST = (
    "James", "Mary", "Robert", "Linda", "Michael", "Sarah", "David", "Emma", "Daniel", "Olivia",
    "Thomas", "Sophie", "Mark", "Laura", "Peter", "Helen", "George", "Anna", "Paul", "Rachel",
    "Steven", "Claire", "Andrew", "Julia", "Kevin", "Nora", "Brian", "Alice", "Edward", "Grace",
)
_EN_LAST = (
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thomas", "Roberts",
    "Walker", "Wright", "Robinson", "Thompson", "White", "Hughes", "Edwards", "Green", "Hall",
    "Wood", "Harris", "Clarke", "Jackson", "Turner", "Hill", "Moore", "Cooper", "Ward", "King",
    "Morgan", "Baker", "Parker", "Bennett", "Gray", "Murphy", "Kelly", "Price", "Bell", "Reed",
)
_EN_CITIES = (
    "London", "Manchester", "Leeds", "Bristol", "Glasgow", "Liverpool", "Cardiff", "Belfast",
    "Sheffield", "Edinburgh", "Boston", "Denver", "Chicago", "Seattle", "Austin", "Portland",
    "Phoenix", "Atlanta", "Dallas", "Toronto", "Sydney", "Dublin", "Oxford", "Cambridge",
    "Nottingham", "Leicester", "Brighton", "Plymouth", "Aberdeen", "Dundee", "Houston", "Miami",
)
_EN_COMPANIES = (
    "Apex Logistics", "Northwind Energy", "Bluewater Foods", "Silverline Rail", "Crestview Bank",
    "Orion Telecom", "Harbor Steel", "Greenfield Farms", "Pinnacle Health", "Vertex Software",
    "Redstone Mining", "Summit Airlines", "Evergreen Retail", "Quantum Motors", "Lakeside Media",
    "Ironbridge Capital", "Maple Insurance", "Sterling Pharma", "Atlas Shipping", "Nova Chemicals",
)
_EN_ORGS = (
    "City council", "The health ministry", "The central bank", "The transport department",
    "Regional authorities", "The education board", "The water utility", "State regulators",
    "The fire service", "Local police", "The environment agency", "The housing office",
)
_EN_PROJECTS = (
    "road repairs", "a new hospital wing", "school renovations", "flood defences",
    "a cycling network", "public housing", "a tram extension", "park improvements",
    "street lighting", "a bridge upgrade", "a recycling plant", "library services",
    "bus fleet renewal", "a sports centre", "water mains replacement", "a community hub",
)
_EN_CRIMES = (
    "robbery at a jewellery store", "break-in at a warehouse", "car theft ring",
    "online fraud scheme", "arson attack on a restaurant", "burglary at a pharmacy",
    "cash machine raid", "cargo theft at the port", "counterfeit goods operation",
)
# (weather, what "up to N ..." counts)
_EN_WEATHER = (
    ("heavy rain", "mm of rain"), ("strong winds", "mph gusts"), ("snowfall", "cm of snow"),
    ("thunderstorms", "mm of rain"), ("flash floods", "mm of rain"), ("gales", "mph gusts"),
    ("blizzards", "cm of snow"), ("hail", "mm hailstones"), ("storms", "mph gusts"),
    ("sleet", "cm of slush"),
)
_EN_EVENTS = (
    "music festival", "food fair", "marathon", "book fair", "art exhibition", "film festival",
    "tech conference", "jazz weekend", "farmers market", "science fair", "charity concert",
)
_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
_EN_UP = ("rise", "jump", "climb", "gain", "surge")
_EN_DOWN = ("fall", "drop", "slide", "slip", "tumble")
_EN_REASONS = (
    "quarterly earnings beat estimates", "profit warning", "merger talks",
    "new chief executive appointment", "supply chain delays", "record sales",
    "weak consumer demand", "regulatory probe", "dividend increase", "plant closure",
)

_RU_FIRST = (
    "Иван", "Алексей", "Сергей", "Дмитрий", "Андрей", "Михаил", "Николай", "Павел", "Олег",
    "Владимир", "Евгений", "Константин", "Артём", "Игорь", "Виктор", "Григорий", "Максим",
    "Роман", "Юрий", "Борис",
)
_RU_LAST = (
    "Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов",
    "Новиков", "Морозов", "Волков", "Соловьёв", "Васильев", "Зайцев", "Павлов", "Семёнов",
    "Голубев", "Виноградов", "Богданов", "Воробьёв", "Фёдоров", "Михайлов", "Беляев", "Тарасов",
)
# (nominative, prepositional) city names
_RU_CITIES = (
    ("Москва", "Москве"), ("Казань", "Казани"), ("Самара", "Самаре"), ("Тверь", "Твери"),
    ("Пермь", "Перми"), ("Уфа", "Уфе"), ("Омск", "Омске"), ("Томск", "Томске"),
    ("Новосибирск", "Новосибирске"), ("Екатеринбург", "Екатеринбурге"), ("Ярославль", "Ярославле"),
    ("Воронеж", "Воронеже"), ("Краснодар", "Краснодаре"), ("Иркутск", "Иркутске"),
    ("Саратов", "Саратове"), ("Тула", "Туле"), ("Калуга", "Калуге"), ("Рязань", "Рязани"),
    ("Владимир", "Владимире"), ("Сочи", "Сочи"), ("Мурманск", "Мурманске"), ("Барнаул", "Барнауле"),
    ("Хабаровск", "Хабаровске"), ("Челябинск", "Челябинске"), ("Тюмень", "Тюмени"),
    ("Курск", "Курске"), ("Липецк", "Липецке"), ("Пенза", "Пензе"),
)
_RU_COMPANIES = (
    "«Северсталь-Логистик»", "«Волга-Энерго»", "«Уральские сети»", "«Сибирский хлеб»",
    "«Балтийский порт»", "«Техностиль»", "«Агрохолдинг Юг»", "«Медитек»", "«Росмаркет»",
    "«Феникс Банк»", "«Инфосистемы»", "«Транслайн»", "«Камский завод»", "«Полимер-Про»",
)
_RU_OBJECTS = (
    "мост через реку", "детский сад", "спортивный комплекс", "участок трассы", "парк",
    "поликлиника", "пешеходный переход", "культурный центр", "бассейн", "школа на 800 мест",
    "станция метро", "рынок", "библиотека", "сквер", "вокзал", "троллейбусный маршрут",
)
_RU_PROJECTS = (
    "ремонт дорог", "строительство школ", "благоустройство дворов", "замену труб",
    "обновление автобусов", "реконструкцию набережной", "освещение улиц", "закупку техники",
    "ремонт больниц", "расселение аварийного жилья",
)
_RU_CRIMES = (
    "краже из ювелирного магазина", "мошенничестве с кредитами", "угоне автомобилей",
    "поджоге склада", "ограблении банкомата", "продаже контрафакта", "взломе аптеки",
    "хищении бюджетных средств",
)
_RU_WEATHER = (
    "сильный ветер", "ледяной дождь", "снегопад", "аномальная жара", "гроза с градом",
    "густой туман", "сильные морозы", "ливни",
)
_RU_EVENTS = (
    "фестиваль джаза", "книжная ярмарка", "марафон", "выставка современного искусства",
    "кинофестиваль", "гастрономический фестиваль", "форум молодёжи", "ярмарка мёда",
)
_RU_STREETS = (
    "Ленина", "Гагарина", "Мира", "Советской", "Садовой", "Лесной", "Школьной", "Пушкина",
    "Кирова", "Московской", "Набережной", "Заводской", "Полевой", "Чехова", "Горького",
    "Некрасова", "Островского", "Суворова", "Победы", "Молодёжной",
)
_RU_MONTHS = (
    "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
    "октября", "ноября", "декабря",
)
_RU_QUARTERS = ("первом", "втором", "третьем", "четвёртом")

# Products: (category in en, category in ru, brands, spec makers)
_PHONE_LINES = (
    ("Samsung", "Galaxy A"), ("Samsung", "Galaxy S"), ("Samsung", "Galaxy M"),
    ("Xiaomi", "Redmi Note "), ("Xiaomi", "Poco X"), ("Apple", "iPhone "), ("Honor", "X"),
    ("Realme", "C"), ("Nokia", "G"), ("Motorola", "Moto G"), ("Oppo", "A"), ("Vivo", "Y"),
    ("Tecno", "Spark "), ("Infinix", "Hot "), ("Google", "Pixel "),
)
_LAPTOP_LINES = (
    ("Lenovo", "IdeaPad "), ("HP", "Pavilion "), ("ASUS", "VivoBook "), ("Acer", "Aspire "),
    ("Dell", "Inspiron "), ("MSI", "Modern "), ("Huawei", "MateBook D"), ("Honor", "MagicBook "),
)
_APPLIANCE_BRANDS = (
    "Bosch", "Philips", "Tefal", "Polaris", "Redmond", "Braun", "Kenwood", "Moulinex",
    "Scarlett", "Vitek", "De'Longhi", "Xiaomi",
)
_TOOL_BRANDS = ("Bosch", "Makita", "DeWalt", "Metabo", "Einhell", "Ryobi", "Interskol", "Zubr")
_APPAREL_BRANDS = ("Nike", "Adidas", "Puma", "Reebok", "Gloria Jeans", "Zolla", "Uniqlo", "Demix")
_COLORS = (
    ("black", "чёрный"), ("white", "белый"), ("blue", "синий"), ("green", "зелёный"),
    ("silver", "серебристый"), ("grey", "серый"), ("red", "красный"), ("pink", "розовый"),
    ("beige", "бежевый"), ("graphite", "графитовый"), ("purple", "фиолетовый"),
)
_APPLIANCES = (
    # (en noun, ru noun, unit, values)
    ("electric kettle", "Чайник электрический", "l", ("1.5", "1.7", "1.8", "2.0")),
    ("blender", "Блендер погружной", "W", ("600", "800", "1000", "1200")),
    ("coffee maker", "Кофеварка капельная", "cups", ("6", "8", "10", "12")),
    ("hair dryer", "Фен для волос", "W", ("1800", "2000", "2200", "2400")),
    ("steam iron", "Утюг с паром", "W", ("2000", "2400", "2600", "2800")),
    ("toaster", "Тостер", "slots", ("2", "4")),
    ("vacuum cleaner", "Пылесос", "W", ("1400", "1600", "1800", "2000")),
    ("multicooker", "Мультиварка", "l", ("3", "4", "5", "6")),
)
_TOOLS = (
    ("cordless drill", "Дрель-шуруповёрт аккумуляторная", "V", ("12", "14.4", "18", "20")),
    ("angle grinder", "Углошлифовальная машина", "mm", ("115", "125", "150", "230")),
    ("rotary hammer", "Перфоратор", "J", ("2.0", "2.7", "3.2", "5.0")),
    ("jigsaw", "Лобзик электрический", "W", ("500", "650", "720", "800")),
    ("circular saw", "Пила дисковая", "mm", ("160", "185", "190", "210")),
)
_APPAREL = (
    ("men's t-shirt", "Футболка мужская"), ("women's t-shirt", "Футболка женская"),
    ("hoodie", "Худи унисекс"), ("running shoes", "Кроссовки беговые"),
    ("track pants", "Брюки спортивные"), ("winter jacket", "Куртка зимняя"),
    ("socks 5 pairs", "Носки 5 пар"), ("baseball cap", "Бейсболка"),
)
_MATERIALS = (
    ("cotton", "хлопок"), ("polyester", "полиэстер"), ("fleece", "флис"), ("wool blend", "шерсть"),
)
_SIZES = ("XS", "S", "M", "L", "XL", "XXL", "3XL", "40", "41", "42", "43", "44", "46", "48")
_EN_EXTRAS = (
    "", "", "", "new", "original", "official warranty", "fast delivery", "gift box",
    "EU version", "with case", "2 pcs", "best price",
)
_RU_EXTRAS = (
    "", "", "", "новый", "оригинал", "официальная гарантия", "быстрая доставка",
    "подарочная упаковка", "в наличии", "с чехлом", "2 шт", "хит продаж",
)


# --------------------------------------------------------------------------------------------
# Base texts
# --------------------------------------------------------------------------------------------


def _money(r: random.Random) -> str:
    return f"{r.randint(1, 99)}.{r.randint(0, 9)}"


def _pct(r: random.Random) -> str:
    return f"{r.randint(1, 19)}.{r.randint(0, 9)}"


def _code(r: random.Random) -> str:
    """A model code such as "GSR 120-LI" or "PWK1803C"."""
    letters = "ABCDEFGHKLMPRSTVWX"
    head = "".join(r.choice(letters) for _ in range(r.randint(2, 3)))
    digits = str(r.randint(10, 9999))
    tail = r.choice(("", "", "-LI", "C", "N", "/02", " Pro", "-2", "X", " Plus"))
    return f"{head}{r.choice(('', ' ', '-'))}{digits}{tail}"


def _en_name(r: random.Random) -> str:
    return f"{r.choice(_EN_FIRST)} {r.choice(_EN_LAST)}"


def _ru_name(r: random.Random) -> str:
    return f"{r.choice(_RU_FIRST)} {r.choice(_RU_LAST)}"


def _date_en(r: random.Random) -> str:
    return f"{r.randint(1, 28)} {r.choice(_EN_MONTHS)}"


def _date_ru(r: random.Random) -> str:
    return f"{r.randint(1, 28)} {r.choice(_RU_MONTHS)}"


# Every headline template has four or more slots with many values each, so two headlines of
# one template usually differ in several places: a pair differing in one number only is a
# hard negative, but it should be a minority, as in real news, not the rule.
def _en_news(r: random.Random) -> str:
    city = r.choice(_EN_CITIES)
    t = r.randrange(10)
    if t == 0:
        return (f"{r.choice(_EN_ORGS)} approves ${_money(r)} million for {r.choice(_EN_PROJECTS)} "
                f"in {city} by {r.randint(5, 15)} votes to {r.randint(0, 4)}")
    if t == 1:
        return (f"Police in {city} arrest {r.randint(2, 9)} suspects after "
                f"{r.choice(_EN_CRIMES)} on {_date_en(r)}, {_en_name(r)} charged")
    if t == 2:
        move = r.choice(_EN_UP + _EN_DOWN)
        return (f"{r.choice(_EN_COMPANIES)} shares {move} {_pct(r)}% to ${r.randint(5, 480)} "
                f"after {r.choice(_EN_REASONS)} on {r.choice(_EN_DAYS)}")
    if t == 3:
        weather, unit = r.choice(_EN_WEATHER)
        return (f"Forecasters warn of {weather} across {city} until {r.choice(_EN_DAYS)} "
                f"{_date_en(r)} with up to {r.randint(5, 120)} {unit}")
    if t == 4:
        return (f"{city} {r.choice(_EN_EVENTS)} draws {r.randint(2, 90)},000 visitors over "
                f"{r.randint(2, 5)} days in {r.choice(_EN_MONTHS)}, organiser {_en_name(r)} says")
    if t == 5:
        return (f"Mayor {_en_name(r)} announces ${_money(r)} million plan for "
                f"{r.choice(_EN_PROJECTS)} in {city} by {r.randint(2025, 2032)}")
    if t == 6:
        return (f"{r.choice(_EN_COMPANIES)} to cut {r.randint(1, 40) * 50} jobs at its {city} "
                f"site amid {r.choice(_EN_REASONS)}, union leader {_en_name(r)} says")
    if t == 7:
        return (f"{r.choice(_EN_COMPANIES)} reports {_pct(r)}% {r.choice(('rise', 'fall'))} in "
                f"{r.choice(('first', 'second', 'third', 'fourth'))} quarter revenue to "
                f"${_money(r)} million in {r.randint(2019, 2026)}")
    if t == 8:
        return (f"Residents of {r.randint(20, 900)} homes in {city} face water outages on "
                f"{_date_en(r)} as {r.choice(_EN_PROJECTS)} begin")
    return (f"{_en_name(r)} of {city} wins {r.choice(_EN_EVENTS)} award with "
            f"{r.randint(2, 40)} entries judged in {r.choice(_EN_MONTHS)} {r.randint(2019, 2026)}")


def _ru_news(r: random.Random) -> str:
    city_nom, city_prep = r.choice(_RU_CITIES)
    t = r.randrange(10)
    if t == 0:
        return (f"В {city_prep} выделят {_money(r)} млн рублей на "
                f"{r.choice(_RU_PROJECTS)} в {r.randint(2025, 2030)} году, сообщил {_ru_name(r)}")
    if t == 1:
        return (f"В {city_prep} полиция задержала {r.randint(2, 9)} подозреваемых в "
                f"{r.choice(_RU_CRIMES)}, ущерб составил {_money(r)} млн рублей")
    if t == 2:
        return (f"Акции компании {r.choice(_RU_COMPANIES)} "
                f"{r.choice(('выросли', 'упали', 'подорожали', 'подешевели'))} на {_pct(r)}% "
                f"по итогам торгов {_date_ru(r)}")
    if t == 3:
        return (f"Синоптики предупредили, что в {city_prep} ожидается "
                f"{r.choice(_RU_WEATHER)} до {_date_ru(r)}, температура "
                f"{r.choice(('до +', 'до -', 'около +', 'около -'))}{r.randint(1, 39)} градусов")
    if t == 4:
        return (f"В {city_prep} открылся новый {r.choice(_RU_OBJECTS)} после "
                f"{r.randint(2, 30)} месяцев работ стоимостью {_money(r)} млн рублей")
    if t == 5:
        return (f"Мэр города {city_nom} {_ru_name(r)} объявил о программе "
                f"на {r.choice(_RU_PROJECTS)} до {r.randint(2025, 2032)} года стоимостью "
                f"{_money(r)} млрд рублей")
    if t == 6:
        return (f"Компания {r.choice(_RU_COMPANIES)} сократит {r.randint(1, 40) * 50} "
                f"сотрудников на заводе в {city_prep} до {_date_ru(r)} {r.randint(2025, 2030)} года")
    if t == 7:
        return (f"Выручка {r.choice(_RU_COMPANIES)} "
                f"{r.choice(('выросла', 'снизилась'))} на {_pct(r)}% в "
                f"{r.choice(_RU_QUARTERS)} квартале {r.randint(2019, 2026)} года, до "
                f"{_money(r)} млрд рублей")
    if t == 8:
        return (f"В {city_prep} {_date_ru(r)} пройдёт "
                f"{r.choice(_RU_EVENTS)}, ожидается {r.randint(2, 90)} тысяч гостей и "
                f"{r.randint(20, 900)} участников")
    return (f"Жители {r.randint(2, 400)} домов в {city_prep} остались без горячей воды "
            f"до {_date_ru(r)} из-за аварии на улице {r.choice(_RU_STREETS)}")


def _phone(r: random.Random) -> tuple[str, str]:
    brand, line = r.choice(_PHONE_LINES)
    model = f"{line}{r.randint(3, 60)}{r.choice(('', '', ' Pro', ' Plus', ' Lite', ' 5G', 's'))}"
    ram = r.choice((2, 3, 4, 6, 8, 12))
    rom = r.choice((32, 64, 128, 256, 512))
    return f"{brand} {model}", f"{ram}/{rom}"


def _en_product(r: random.Random) -> str:
    t = r.randrange(5)
    color_en = r.choice(_COLORS)[0]
    extra = r.choice(_EN_EXTRAS)
    if t == 0:
        name, mem = _phone(r)
        ram, rom = mem.split("/")
        return f"Smartphone {name} {ram}GB {rom}GB {color_en} {extra}".strip()
    if t == 1:
        brand, line = r.choice(_LAPTOP_LINES)
        cpu = r.choice(("Core i3", "Core i5", "Core i7", "Ryzen 5", "Ryzen 7", "Celeron"))
        return (f"Laptop {brand} {line}{r.randint(1, 16)} {r.choice(('14', '15.6', '16', '17.3'))}\" "
                f"{cpu} {r.choice((8, 16, 32))}GB RAM {r.choice((256, 512, 1024))}GB SSD {color_en}")
    if t == 2:
        en, _, unit, values = r.choice(_APPLIANCES)
        return (f"{r.choice(_APPLIANCE_BRANDS)} {en} {_code(r)} {r.choice(values)} {unit} "
                f"{color_en} {extra}").strip()
    if t == 3:
        en, _, unit, values = r.choice(_TOOLS)
        return (f"{r.choice(_TOOL_BRANDS)} {en} {_code(r)} {r.choice(values)}{unit} "
                f"{r.choice(('with case', 'body only', '2 batteries', 'kit'))}")
    en, _ = r.choice(_APPAREL)
    material = r.choice(_MATERIALS)[0]
    return (f"{r.choice(_APPAREL_BRANDS)} {en} {material} size {r.choice(_SIZES)} {color_en} "
            f"art. {r.randint(1000, 99999)}")


def _ru_product(r: random.Random) -> str:
    t = r.randrange(5)
    color_ru = r.choice(_COLORS)[1]
    extra = r.choice(_RU_EXTRAS)
    if t == 0:
        name, mem = _phone(r)
        return f"Смартфон {name} {mem} ГБ, цвет {color_ru} {extra}".strip()
    if t == 1:
        brand, line = r.choice(_LAPTOP_LINES)
        cpu = r.choice(("Core i3", "Core i5", "Core i7", "Ryzen 5", "Ryzen 7", "Celeron"))
        return (f"Ноутбук {brand} {line}{r.randint(1, 16)} {r.choice(('14', '15.6', '16', '17.3'))}\" "
                f"{cpu}, {r.choice((8, 16, 32))} ГБ ОЗУ, SSD {r.choice((256, 512, 1024))} ГБ, "
                f"{color_ru}")
    if t == 2:
        _, ru, unit, values = r.choice(_APPLIANCES)
        unit_ru = {"l": "л", "W": "Вт", "cups": "чашек", "slots": "отделения"}[unit]
        return (f"{ru} {r.choice(_APPLIANCE_BRANDS)} {_code(r)} {r.choice(values)} {unit_ru}, "
                f"{color_ru} {extra}").strip()
    if t == 3:
        _, ru, unit, values = r.choice(_TOOLS)
        unit_ru = {"V": "В", "mm": "мм", "J": "Дж", "W": "Вт"}[unit]
        return (f"{ru} {r.choice(_TOOL_BRANDS)} {_code(r)} {r.choice(values)} {unit_ru} "
                f"{r.choice(('в кейсе', 'без АКБ', '2 АКБ', 'набор'))}")
    _, ru = r.choice(_APPAREL)
    material = r.choice(_MATERIALS)[1]
    return (f"{ru} {r.choice(_APPAREL_BRANDS)}, {material}, размер {r.choice(_SIZES)}, "
            f"цвет {color_ru}, арт. {r.randint(1000, 99999)}")


_BASE_MAKERS: dict[tuple[str, str], Callable[[random.Random], str]] = {
    ("en", "news"): _en_news,
    ("ru", "news"): _ru_news,
    ("en", "product"): _en_product,
    ("ru", "product"): _ru_product,
}


# --------------------------------------------------------------------------------------------
# Edits
# --------------------------------------------------------------------------------------------

# Latin and Cyrillic letters that look alike: OCR and copy-paste swap them silently.
_HOMOGLYPHS = {
    "a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "k": "к",
    "A": "А", "B": "В", "E": "Е", "K": "К", "M": "М", "H": "Н", "O": "О", "P": "Р",
    "C": "С", "T": "Т", "X": "Х",
}
_HOMOGLYPHS.update({v: k for k, v in list(_HOMOGLYPHS.items())})
# OCR confusions of single characters (shapes that scanners mix up).
_CONFUSABLE_CHARS = {
    "l": "1", "1": "l", "I": "l", "O": "0", "0": "O", "o": "0", "S": "5", "5": "S", "B": "8",
    "8": "B", "e": "c", "c": "e", "i": "í", "Z": "2", "g": "9", "ш": "щ", "и": "н", "н": "и",
    "п": "л", "ы": "ь", "б": "6", "з": "3", "З": "3", "ё": "е",
}
# Multi-character confusions (rn reads as m, cl as d, and back).
_CONFUSABLE_SEQS = (("rn", "m"), ("m", "rn"), ("cl", "d"), ("vv", "w"), ("ri", "n"), ("ш", "ııı"))


def _ocr_noise(text: str, rate: float, r: random.Random) -> str:
    """Character-level OCR-like corruption: each position is hit with probability ``rate``."""
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        if r.random() >= rate:
            out.append(text[i])
            i += 1
            continue
        ch = text[i]
        kind = r.randrange(6)
        if kind == 0:  # multi-character confusion starting here
            for src, dst in _CONFUSABLE_SEQS:
                if text.startswith(src, i):
                    out.append(dst)
                    i += len(src)
                    break
            else:
                out.append(_CONFUSABLE_CHARS.get(ch, ch))
                i += 1
        elif kind == 1:
            out.append(_HOMOGLYPHS.get(ch, _CONFUSABLE_CHARS.get(ch, ch)))
            i += 1
        elif kind == 2:
            out.append(_CONFUSABLE_CHARS.get(ch, _HOMOGLYPHS.get(ch, ch)))
            i += 1
        elif kind == 3:  # dropped character (a lost space glues two words)
            i += 1
        elif kind == 4:  # doubled character
            out.append(ch + ch)
            i += 1
        else:  # spurious space inside a word, or a lost one
            out.append(ch + " " if ch != " " else "")
            i += 1
    return "".join(out)


def _delete_words(words: list[str], rate: float, r: random.Random) -> list[str]:
    kept = [w for w in words if r.random() >= rate]
    # a variant that lost most of its words is no longer a near-duplicate of anything
    min_keep = max(2, int(np.ceil(0.6 * len(words))))
    if len(kept) < min_keep:
        drop = set(r.sample(range(len(words)), max(0, len(words) - min_keep)))
        kept = [w for i, w in enumerate(words) if i not in drop]
    return kept


def _abridge(words: list[str], r: random.Random) -> list[str]:
    keep = max(3, int(round(len(words) * r.uniform(0.55, 0.9))))
    return words[:keep]


def _reorder(words: list[str], r: random.Random) -> list[str]:
    words = list(words)
    if len(words) < 3:
        return words
    if r.random() < 0.5:  # swap a few adjacent words
        for _ in range(r.randint(1, 2)):
            i = r.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
    else:  # move one word or the tail to the front ("black, Samsung Galaxy ...")
        if r.random() < 0.5:
            w = words.pop(r.randrange(len(words)))
            words.insert(r.randrange(len(words) + 1), w)
        else:
            cut = r.randrange(max(1, len(words) // 2), len(words))
            words = words[cut:] + words[:cut]
    return words


def _restyle(text: str, r: random.Random) -> str:
    choice = r.randrange(4)
    if choice == 0:
        text = text.lower()
    elif choice == 1:
        text = text.upper()
    if r.random() < 0.5:
        text = text.replace(",", "").replace("«", '"').replace("»", '"')
    if r.random() < 0.3:
        text = text + r.choice((".", "!", " -", " |", " ..."))
    return text


def _variant(base: str, noise: float, r: random.Random) -> tuple[str, tuple[str, ...]]:
    """One near-duplicate of ``base`` and the edit kinds applied (at least one when noise > 0)."""
    if noise <= 0:
        return base, ()
    # at noise=1 a variant gets one or two edits most of the time, rarely four or five
    p = min(1.0, 0.3 * noise)
    ops = [op for op in ("ocr", "delete", "abridge", "reorder", "restyle") if r.random() < p]
    if not ops:
        ops = [r.choice(("ocr", "delete", "abridge", "reorder", "restyle"))]
    words = base.split()
    if "reorder" in ops:
        words = _reorder(words, r)
    if "delete" in ops:
        words = _delete_words(words, min(0.4, 0.12 * noise), r)
    if "abridge" in ops:
        words = _abridge(words, r)
    text = " ".join(words)
    if "restyle" in ops:
        text = _restyle(text, r)
    if "ocr" in ops:
        text = _ocr_noise(text, min(0.3, 0.04 * noise), r)
    return text, tuple(ops)


# --------------------------------------------------------------------------------------------
# Collection
# --------------------------------------------------------------------------------------------


def _group_sizes(n: int, singleton_share: float, max_group: int, r: random.Random) -> list[int]:
    """Group sizes summing to ``n``: ``singleton_share`` of the groups are singletons, the rest
    have 2..max_group members with P(s) proportional to 1/(s-1)^1.5 (mostly pairs and triples)."""
    sizes_2up = list(range(2, max_group + 1))
    weights = [1.0 / (s - 1) ** 1.5 for s in sizes_2up]
    out: list[int] = []
    total = 0
    while total < n:
        s = 1 if r.random() < singleton_share else r.choices(sizes_2up, weights)[0]
        s = min(s, n - total)
        out.append(s)
        total += s
    return out


def make_near_duplicates(
    n: int,
    *,
    languages: Sequence[str] = LANGUAGES,
    kinds: Sequence[str] = KINDS,
    seed: int = 0,
    noise: float = 1.0,
    singleton_share: float = 0.7,
    max_group_size: int = 10,
) -> SyntheticCollection:
    """``n`` texts in groups of near-duplicates with known labels (see the module docstring).

    Args:
        n: number of texts.
        languages: any of ``"en"``, ``"ru"``; each group picks one uniformly.
        kinds: any of ``"news"`` (headlines) and ``"product"`` (marketplace titles).
        seed: the output is a function of the arguments, so the same seed gives the same texts.
        noise: edit strength; 0 makes every variant an exact copy of its base, 1 is moderate
            (about 4% of characters hit when OCR noise is applied, 12% of words deleted when
            deletion is), 2 is heavy.
        singleton_share: fraction of groups that have a single member (share of *groups*; the
            share of texts that are singletons is lower).
        max_group_size: largest group (at least 2).
    """
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise InputError(f"n must be a non-negative integer, got {n!r}")
    bad = [x for x in languages if x not in LANGUAGES]
    if bad or not languages:
        raise InputError(f"languages must be a non-empty subset of {LANGUAGES}, got {languages!r}")
    bad = [x for x in kinds if x not in KINDS]
    if bad or not kinds:
        raise InputError(f"kinds must be a non-empty subset of {KINDS}, got {kinds!r}")
    if noise < 0:
        raise InputError(f"noise must be >= 0, got {noise}")
    if not 0 <= singleton_share <= 1:
        raise InputError(f"singleton_share must lie in [0, 1], got {singleton_share}")
    if max_group_size < 2:
        raise InputError(f"max_group_size must be at least 2, got {max_group_size}")
    n = int(n)
    try:
        seed = operator.index(seed)  # numpy integers too; random.Random refuses them
    except TypeError:
        raise InputError(f"seed must be an integer, got {seed!r}") from None
    r = random.Random(seed)
    langs, kinds_ = tuple(languages), tuple(kinds)
    sizes = _group_sizes(n, singleton_share, max_group_size, r)

    texts: list[str] = []
    groups: list[int] = []
    base_rows: list[int] = []
    lang_col: list[str] = []
    kind_col: list[str] = []
    edits: list[tuple[str, ...]] = []
    seen: set[str] = set()
    # normalised text -> its group: no text may stand in two groups, or every method is
    # charged a false positive on what is an exact copy. Redraws after such a collision use
    # a generator of their own, so the main stream (and every other text) stays as it was.
    owner: dict[str, int] = {}
    for g, size in enumerate(sizes):
        lang, kind = r.choice(langs), r.choice(kinds_)
        maker = _BASE_MAKERS[(lang, kind)]
        # distinct bases: a redraw on collision keeps two groups from being the same text
        for _ in range(1000):
            base = maker(r)
            key = normalize(base)
            if key not in seen:
                break
        else:  # pragma: no cover - the template space is many orders larger than any n here
            raise RuntimeError("could not draw a new distinct base text")
        seen.add(key)
        for attempt in range(1000):
            if key not in owner:
                break
            base = maker(random.Random(f"{seed}-base-{g}-{attempt}"))
            key = normalize(base)
        else:  # pragma: no cover
            raise RuntimeError("could not draw a new distinct base text")
        owner[key] = g
        base_row = len(texts)
        for member in range(size):
            text, ops = (base, ()) if member == 0 else _variant(base, noise, r)
            attempt = 0
            while owner.get(normalize(text), g) != g:
                attempt += 1
                side = random.Random(f"{seed}-variant-{g}-{member}-{attempt}")
                text, ops = _variant(base, noise, side) if attempt < 100 else (base, ())
            owner.setdefault(normalize(text), g)
            texts.append(text)
            groups.append(g)
            base_rows.append(base_row)
            lang_col.append(lang)
            kind_col.append(kind)
            edits.append(ops)

    # shuffle rows so groups are not contiguous; remap base rows through the permutation
    order = list(range(n))
    r.shuffle(order)
    new_pos = np.empty(n, dtype=np.int64)
    new_pos[np.asarray(order, dtype=np.int64)] = np.arange(n, dtype=np.int64)
    base_arr = np.asarray(base_rows, dtype=np.int64)
    return SyntheticCollection(
        texts=[texts[i] for i in order],
        ids=[f"s{i:07d}" for i in range(n)],
        groups=np.asarray(groups, dtype=np.int64)[order] if n else np.zeros(0, np.int64),
        base=new_pos[base_arr[order]] if n else np.zeros(0, np.int64),
        is_base=np.asarray([base_rows[i] == i for i in order], dtype=bool),
        languages=[lang_col[i] for i in order],
        kinds=[kind_col[i] for i in order],
        edits=[edits[i] for i in order],
        seed=seed,
        noise=float(noise),
    )
