"""Names, places and suppliers the seed draws from (fictional companies, realistic shapes)."""

from __future__ import annotations

CLIENTS = (
    "Northwind Pharma",
    "Helix Semiconductors",
    "Aurora Bank",
    "Kestrel Energy",
    "Lumen Analytics",
    "Baltic Freight Group",
    "Orchid Biotech",
    "Vantage Consulting",
)

# (name, kind, accommodation type it offers)
SUPPLIERS = (
    ("Cityhome Serviced Apartments", "serviced_apartments", "Serviced apartment"),
    ("Meridian Hotels", "hotel", "Hotel"),
    ("Nestwell Temporary Living", "temporary_housing", "Temporary housing"),
    ("Harbour Suites", "serviced_apartments", "Serviced apartment"),
    ("Grand Central Hotel Group", "hotel", "Hotel"),
    ("StayBridge Corporate Housing", "temporary_housing", "Temporary housing"),
    ("Urban Nest Apartments", "serviced_apartments", "Serviced apartment"),
    ("Atlas Business Hotels", "hotel", "Hotel"),
)

# (city, currency, base nightly rate in major units for a serviced apartment)
CITIES = (
    ("London", "GBP", 165),
    ("Amsterdam", "EUR", 150),
    ("Berlin", "EUR", 120),
    ("Munich", "EUR", 140),
    ("Paris", "EUR", 170),
    ("Dublin", "EUR", 160),
    ("Zurich", "CHF", 210),
    ("New York", "USD", 240),
    ("Singapore", "SGD", 260),
    ("Toronto", "CAD", 190),
    ("Stockholm", "SEK", 1450),
    ("Warsaw", "PLN", 420),
    ("Lisbon", "EUR", 115),
    ("Madrid", "EUR", 125),
    ("Bangalore", "INR", 7200),
    ("Austin", "USD", 185),
    ("Tokyo", "JPY", 21000),
    ("Copenhagen", "DKK", 1200),
)
RATE_FACTOR = {"Serviced apartment": 1.0, "Hotel": 1.25, "Temporary housing": 0.8}

PROPERTY_WORDS = (
    "Riverside",
    "Canal View",
    "Old Town",
    "Central Park",
    "Harbourfront",
    "Station Square",
    "Garden Court",
    "Market Street",
    "Westend",
    "Lakeside",
    "Kings Cross",
    "Museum Quarter",
)

FIRST_NAMES = (
    "Aisha",
    "Ben",
    "Chen",
    "Daniela",
    "Emeka",
    "Fatima",
    "Georg",
    "Hana",
    "Ivan",
    "Jasmin",
    "Kenji",
    "Laura",
    "Mateo",
    "Nadia",
    "Oliver",
    "Pooja",
    "Quentin",
    "Rosa",
    "Samir",
    "Tanja",
    "Umar",
    "Valentina",
    "William",
    "Ximena",
    "Yusuf",
    "Zofia",
    "Arjun",
    "Brigitte",
    "Carlos",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hiroshi",
    "Ingrid",
    "Jonas",
    "Kwame",
    "Leila",
)
LAST_NAMES = (
    "Adeyemi",
    "Bergström",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Hansen",
    "Ishikawa",
    "Jankowski",
    "Kowalczyk",
    "Lindqvist",
    "Mendes",
    "Novak",
    "O'Brien",
    "Petrov",
    "Quinn",
    "Rahman",
    "Schneider",
    "Tanaka",
    "Uddin",
    "Varga",
    "Wójcik",
    "Xu",
    "Yilmaz",
    "Zimmermann",
    "Moreau",
    "Kaur",
    "Silva",
    "Murphy",
    "Nakamura",
    "Okonkwo",
)

# (email, name, role, client index or None, supplier index or None)
STAFF = (
    ("priya.nair@ikan.example", "Priya Nair", "operations", None, None),
    ("tom.becker@ikan.example", "Tom Becker", "operations", None, None),
    ("amara.okafor@ikan.example", "Amara Okafor", "operations", None, None),
    ("lukas.weber@ikan.example", "Lukas Weber", "operations", None, None),
    ("sofia.marin@ikan.example", "Sofia Marín", "admin", None, None),
    ("daniel.kim@ikan.example", "Daniel Kim", "admin", None, None),
    ("grace.liu@northwind.example", "Grace Liu", "rmc", 0, None),
    ("marco.rossi@helix.example", "Marco Rossi", "rmc", 1, None),
    ("reservations@cityhome.example", "Cityhome Reservations", "supplier", None, 0),
    ("desk@meridian-hotels.example", "Meridian Booking Desk", "supplier", None, 1),
    ("ops@nestwell.example", "Nestwell Operations", "supplier", None, 2),
)

HOLD_REASONS = (
    "Traveller's visa appointment moved; dates not final",
    "Client asked to pause until the assignment letter is signed",
    "Waiting for the cost-centre approval from HR",
    "Traveller requested a pet-friendly unit; checking options",
)
CANCEL_REASONS = (
    "Assignment postponed by the client",
    "Traveller found private housing",
    "Duplicate request from the client portal",
    "Start date moved by three months; rebook later",
)
DECLINE_REASONS = (
    "No availability for those dates",
    "Unit under renovation",
    "Minimum stay is 30 nights",
)
ESCALATE_REASONS = (
    "Check-in in 48 hours and no confirmation yet",
    "Client VP travelling; needs premium unit",
    "Supplier not answering for two days",
)
