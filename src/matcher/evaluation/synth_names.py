"""Name data for the synthetic generator: Swedish and immigrant-family given names and surnames.

Each tuple is in rough descending order of frequency, following the rank order of Statistics
Sweden's name statistics for children born about 2008–2020 (scb.se "Namn och namnstatistik") from
memory, not copied figures; the generator turns rank into a Zipf weight. Immigrant-family names
follow SCB's most common countries of birth of foreign-born children and their parents (Syria,
Somalia, Iraq, former Yugoslavia; SCB statistiknyhet 2017-06-29), plus Afghanistan, Iran, Turkey,
Eritrea, Poland, Finland and Vietnam. Some names carry letters outside Windows-1252 (ć, č, ş, ı, ł,
ğ, ś) on purpose: real Windows-1252 exports lose them.
"""

from __future__ import annotations

SWEDISH_GIRLS: tuple[str, ...] = (
    "Alice", "Maja", "Elsa", "Saga", "Ella", "Lilly", "Olivia", "Ebba", "Wilma", "Astrid",
    "Alma", "Vera", "Selma", "Freja", "Clara", "Agnes", "Stella", "Ellen", "Signe", "Alva",
    "Julia", "Ellie", "Molly", "Ester", "Ida", "Nova", "Elvira", "Juni", "Tuva", "Emma",
    "Hanna", "Linnéa", "Moa", "Thea", "Sara", "Lova", "Ines", "Liv", "Sofia", "Isabelle",
    "Matilda", "Emilia", "Elin", "Felicia", "Klara", "Tilde", "Sigrid", "Ronja", "Stina", "Märta",
    "Tyra", "Hedda", "Hilda", "Jasmine", "Lea", "Noomi", "Majken", "Joline", "Nellie", "Ingrid",
    "Svea", "Meja", "Elise", "Amanda", "Filippa", "Josefin", "Lovisa", "Tindra", "Greta", "Ylva",
    "Åsa", "Anna", "Maria", "Sofie", "Louise", "Kristina", "Elisabet", "Margareta", "Charlotte",
    "Cecilia", "Katarina", "Amélie", "Zoé", "Renée", "Chloé", "Léa", "Märit", "Embla", "Edith",
    "Idun", "Smilla", "Nora", "Hélène", "Britt", "Karin", "Linn", "Malin", "Frida", "Johanna",
)  # fmt: skip

SWEDISH_BOYS: tuple[str, ...] = (
    "William", "Liam", "Noah", "Lucas", "Oliver", "Hugo", "Elias", "Alexander", "Adam", "Oscar",
    "Filip", "Leo", "Viktor", "Axel", "Ludvig", "Vincent", "Theo", "Nils", "Isak", "Emil",
    "Olle", "Arvid", "Gustav", "Elton", "Melvin", "Charlie", "Alfred", "Edvin", "Sixten", "Carl",
    "Malte", "Anton", "Love", "Gabriel", "Harry", "Sam", "Jonathan", "Albin", "Jack", "Loke",
    "Theodor", "Valter", "Wilmer", "Kevin", "Ebbe", "Max", "Benjamin", "Erik", "Josef", "Sigge",
    "Olof", "Jacob", "Felix", "Melker", "Matteo", "Otto", "Aron", "Casper", "Vidar", "Henry",
    "Elliot", "Frans", "Hjalmar", "Milo", "August", "Albert", "Samuel", "Adrian", "Daniel",
    "Simon", "Rasmus", "Linus", "Johannes", "Jonas", "Sebastian", "Tim", "Hampus", "Marcus",
    "Martin", "Johan", "Karl", "Lars", "Per", "Fredrik", "Mikael", "Gustaf", "Sven", "Åke",
    "Björn", "Göran", "Jöns", "Måns", "André", "René", "Noé", "Tor", "Östen", "Henrik", "Stig",
)  # fmt: skip

IMMIGRANT_GIRLS: tuple[str, ...] = (
    "Fatima", "Mariam", "Maryam", "Zainab", "Amina", "Aisha", "Sara", "Noor", "Nour", "Hiba",
    "Yasmin", "Leila", "Layla", "Hawa", "Hodan", "Fardowsa", "Ayaan", "Sagal", "Ilham", "Zahra",
    "Shirin", "Nasrin", "Parisa", "Roya", "Rojin", "Berfin", "Dilan", "Helin", "Zeynep", "Elif",
    "Ecem", "Amra", "Emina", "Lejla", "Ajla", "Merjem", "Senait", "Helen", "Ruth", "Winta",
    "Natalia", "Zuzanna", "Wiktoria", "Anastasia", "Mila", "Jelena", "Milica", "Ana", "Aino",
    "Aada", "Linh", "Mai", "Thao", "Rahaf", "Aya", "Hajar", "Safiya", "Nasra", "Iman", "Samira",
)  # fmt: skip

IMMIGRANT_BOYS: tuple[str, ...] = (
    "Mohammed", "Muhammad", "Mohamad", "Ali", "Omar", "Ahmed", "Ahmad", "Hassan", "Hussein",
    "Yusuf", "Yousef", "Ibrahim", "Mustafa", "Abdullahi", "Abdirahman", "Mahad", "Amir", "Karim",
    "Khaled", "Hamza", "Zakaria", "Bilal", "Idris", "Ismail", "Arman", "Dariush", "Reza", "Aras",
    "Rebin", "Kerem", "Emre", "Berat", "Emir", "Adnan", "Armin", "Edin", "Haris", "Tarik",
    "Dženan", "Filmon", "Yonas", "Dawit", "Tesfay", "Jakub", "Mateusz", "Kacper", "Mikołaj",
    "Aleksander", "Ivan", "Nikola", "Luka", "Matej", "Artem", "Bogdan", "Eino", "Aatu", "Ahmet",
    "Yiğit", "Tuan", "Minh", "Anh", "Abdulla", "Said", "Sami", "Jamal", "Mehdi", "Sina",
)  # fmt: skip

SWEDISH_SURNAMES: tuple[str, ...] = (
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
    "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson", "Bengtsson",
    "Jönsson", "Lindberg", "Jakobsson", "Magnusson", "Olofsson", "Lindström", "Lindqvist",
    "Lindgren", "Berg", "Axelsson", "Bergström", "Lundberg", "Lind", "Lundgren", "Lundqvist",
    "Mattsson", "Berglund", "Fredriksson", "Sandberg", "Henriksson", "Forsberg", "Sjöberg",
    "Wallin", "Engström", "Eklund", "Danielsson", "Lundin", "Håkansson", "Björk", "Bergman",
    "Gunnarsson", "Holm", "Wikström", "Samuelsson", "Isaksson", "Fransson", "Bergqvist",
    "Nyström", "Holmberg", "Arvidsson", "Löfgren", "Söderberg", "Nyberg", "Blomqvist", "Claesson",
    "Nordström", "Mårtensson", "Lundström", "Viklund", "Björklund", "Eliasson", "Pålsson",
    "Berggren", "Sandström", "Lund", "Nordin", "Ström", "Åberg", "Hermansson", "Ekström", "Falk",
    "Holmgren", "Dahlberg", "Hellström", "Hedlund", "Sundberg", "Sjögren", "Ek", "Blom",
    "Abrahamsson", "Martinsson", "Öberg", "Andreasson", "Strömberg", "Månsson", "Åkesson",
    "Hansen", "Norberg", "Lindholm", "Dahl", "Jonasson", "Söderström", "Åström", "Sundström",
    "Holmqvist", "Nordlund", "Sjöström", "Ekberg", "Stjernström", "Schön", "Kjellberg",
    "Tjäder", "Wahlström", "Zetterberg", "Quist", "Hägg", "Öhman", "Ågren", "Brännström",
    "von Essen", "af Klint", "de Geer", "Lövgren", "Grönlund", "Söderlund", "Fält", "Sköld",
)  # fmt: skip

IMMIGRANT_SURNAMES: tuple[str, ...] = (
    "Mohammed", "Ali", "Ahmed", "Hassan", "Hussein", "Ibrahim", "Abdi", "Omar", "Mohamud",
    "Yusuf", "Osman", "Jama", "Warsame", "Farah", "Abdullahi", "Khalil", "Haddad", "Mansour",
    "Saleh", "Nasser", "Karimi", "Hosseini", "Rezaei", "Ahmadi", "Mohammadi", "Rahimi", "Jafari",
    "Azizi", "Yilmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk", "Aydın", "Hodžić", "Hadžić",
    "Begović", "Kovačević", "Petrović", "Jovanović", "Nikolić", "Mehmedović", "Kowalski", "Nowak",
    "Wiśniewski", "Nguyen", "Tran", "Le", "Pham", "Tesfaye", "Tekle", "Haile", "Gebremedhin",
    "Berhane", "Kebede", "Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Ivanov", "Kuznetsov",
    "Al-Hassan", "El Khatib", "Abu Bakr", "Qasim", "Salih", "Darwish", "Barzani", "Rashid",
)  # fmt: skip

# Swedish surnames have a long tail of rare compound "nature names" (Lind+berg, Sjö+ström). The
# generator builds that tail from these parts, so that rare surnames exist at all: with only the
# common names above, far too many children would share a surname.
SURNAME_PREFIXES: tuple[str, ...] = (
    "Lind", "Berg", "Sjö", "Ek", "Ås", "Holm", "Dahl", "Lund", "Ny", "Sand", "Ström", "Stjern",
    "Häll", "Björk", "Gran", "Ahl", "Wall", "Fors", "Nord", "Söder", "Öst", "Väst", "Hed", "Ros",
    "Lil", "Eng", "Hag", "Mal", "Al", "Bäck", "Kvarn", "Stor", "Ljung", "Löv", "Sten", "Ask",
    "Alm", "Bjur", "Fager", "Hassel", "Kron", "Lillie", "Mos", "Rönn", "Sval", "Tall", "Vik",
    "Åker", "Ängs", "Öd",
)  # fmt: skip
SURNAME_SUFFIXES: tuple[str, ...] = (
    "berg", "ström", "lund", "gren", "qvist", "holm", "dahl", "sten", "man", "blad", "strand",
    "vall", "by", "näs", "bäck", "ling", "ius", "ander", "ell", "in", "én", "mark", "hag",
    "fors", "wall", "stedt", "bom", "kvist",
)  # fmt: skip

# Spellings of one name as different agencies write it: transliterations of Arabic, Somali
# (Somali orthography writes x for ħ and c for ʿ), Persian, Turkish and Tigrinya names, and the
# Swedish j for y. The harsh profile writes a record's name in another spelling of its group;
# the first spelling of each group is the one the name pools above use (where they use one).
TRANSLITERATIONS: tuple[tuple[str, ...], ...] = (
    ("Mohammed", "Muhammad", "Mohamad", "Mohamed", "Mohammad", "Muhammed", "Maxamed"),
    ("Muhammad", "Mohammed", "Mohamad", "Muhammed"),
    ("Mohamad", "Mohammed", "Muhammad", "Mohamed"),
    ("Hussein", "Husein", "Hussain", "Husain", "Hossein", "Xuseen"),
    ("Hassan", "Hasan", "Xasan", "Hassen"),
    ("Yousef", "Yusuf", "Youssef", "Yosef", "Jusuf"),
    ("Yusuf", "Yousef", "Youssef", "Yussuf", "Jusuf"),
    ("Ahmed", "Ahmad", "Axmed", "Ahmet"),
    ("Ahmad", "Ahmed", "Axmad"),
    ("Ali", "Cali", "Aly"),
    ("Omar", "Umar", "Cumar", "Omer"),
    ("Abdullahi", "Abdulahi", "Cabdullahi", "Abdallah"),
    ("Abdirahman", "Abdulrahman", "Cabdiraxmaan", "Abdurrahman"),
    ("Ibrahim", "Ebrahim", "Ibraahim", "Ibrahem"),
    ("Mustafa", "Mustapha", "Mostafa", "Mustefa"),
    ("Khaled", "Khalid", "Chaled", "Xaalid"),
    ("Zakaria", "Zakariya", "Zakariyya", "Sakaria"),
    ("Ismail", "Ismael", "Esmail", "Ismaaciil"),
    ("Said", "Saeed", "Saiid", "Saciid"),
    ("Karim", "Kareem", "Karem"),
    ("Hamza", "Hamzah", "Xamsa"),
    ("Mehdi", "Mahdi", "Mehdy"),
    ("Dariush", "Daryoush", "Dariusch", "Daryush"),
    ("Reza", "Resa", "Rezza"),
    ("Tesfay", "Tesfaye", "Tesfai"),
    ("Tesfaye", "Tesfay", "Tesfai"),
    ("Dawit", "Dawid", "Dawitt"),
    ("Yonas", "Jonas", "Yunus"),
    ("Filmon", "Filimon", "Philemon"),
    ("Gebremedhin", "Gebremedin", "Gebre Medhin", "Gebremedhn"),
    ("Berhane", "Berhana", "Birhane"),
    ("Haile", "Hayle", "Haylay"),
    ("Fatima", "Fatma", "Faadumo", "Fatimah"),
    ("Mariam", "Maryam", "Maryan", "Mariyam"),
    ("Maryam", "Mariam", "Maryan"),
    ("Aisha", "Ayesha", "Aischa", "Caasha"),
    ("Zainab", "Zeinab", "Zaynab"),
    ("Amina", "Aminah", "Amiina"),
    ("Noor", "Nour", "Nur"),
    ("Nour", "Noor", "Nur"),
    ("Leila", "Layla", "Laila", "Leyla"),
    ("Layla", "Leila", "Laila"),
    ("Hawa", "Xawa", "Hawwa"),
    ("Yasmin", "Yasmine", "Jasmin", "Yasemin"),
    ("Samira", "Sameera", "Samiira"),
    ("Abdi", "Cabdi", "Abdy"),
    ("Osman", "Usman", "Cusmaan", "Othman"),
    ("Mohamud", "Mahmoud", "Maxamuud", "Mahmud"),
    ("Farah", "Faarax", "Farrah"),
    ("Jama", "Jaamac", "Jamaa"),
    ("Hosseini", "Husseini", "Hosaini"),
    ("Mohammadi", "Mohamadi", "Muhammadi"),
    ("Saleh", "Salih", "Saalax"),
    ("Nasser", "Naser", "Nasir"),
)  # fmt: skip
