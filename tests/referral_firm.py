"""A small firm written into a temporary folder, for the referral parser's tests."""

from __future__ import annotations

from pathlib import Path

from tests import firm

PRIYA = "priya.shah@ormsby.example"
TOM_NG = "tom.ng@ormsby.example"
TOM_BAKER = "tom.baker@ormsby.example"
DANA = "dana.reyes@ormsby.example"
OLU = "olu.bakare@ormsby.example"
GRACE = "grace.lim@ormsby.example"

PEOPLE = f"""email,name,team,office,title,role,slack_id
{PRIYA},Priya Shah,Employment,Leeds,Partner,member,U01PRIYA
{TOM_NG},Tom Ng,Employment,Leeds,Associate,member,
{TOM_BAKER},Tom Baker,Pensions,London,Partner,member,
{DANA},Dana Reyes,Corporate,London,Partner,ambassador,U02DANA
{OLU},Olu Bakare,Real Estate,York,Senior Associate,member,
{GRACE},Grace Lim,Tax,London,Director,member,
"""

CLIENTS = f"""name,aliases,sector,owner,services
Acme Ltd,ACME;Acme Holdings,manufacturing,{DANA},corporate-ma
Northwind Foods,Northwind,food,{DANA},
Blue Fin Hotels,Blue Fin;BFH,hospitality,{OLU},property
"""

CARDS = {
    "employment": (
        "Employment law",
        "Employment",
        [PRIYA, TOM_NG],
        ["HR law", "tribunal", "TUPE", "redundancy"],
        "Contracts, dismissals, grievances, tribunal claims, TUPE transfers and redundancy "
        "programmes for employers.",
        "- A restructuring or site closure\n- A senior executive leaving\n- A tribunal claim",
    ),
    "pensions": (
        "Pensions",
        "Pensions",
        [TOM_BAKER],
        ["pension schemes", "auto-enrolment", "DB scheme"],
        "Defined benefit and defined contribution schemes, trustees, buy-ins and "
        "auto-enrolment compliance.",
        "- The scheme is in deficit\n- Trustees plan a buy-in",
    ),
    "corporate-ma": (
        "Mergers & acquisitions",
        "Corporate",
        [DANA],
        ["M&A", "acquisitions", "selling a business"],
        "Buying and selling companies and businesses, share purchases and joint ventures.",
        "- An owner wants to sell the business\n- A bolt-on acquisition is planned",
    ),
    "property": (
        "Commercial property",
        "Real Estate",
        [OLU],
        ["leases", "real estate", "lease renewal"],
        "Leases, lease renewals, acquisitions of sites, landlord and tenant disputes.",
        "- A lease is about to expire\n- A new site or store is planned",
    ),
    "tax": (
        "Corporate tax",
        "Tax",
        [GRACE],
        ["tax", "HMRC enquiries", "R&D tax relief"],
        "Corporation tax, HMRC enquiries, R&D tax relief claims and VAT.",
        "- HMRC opens an enquiry\n- The client spends on research and development",
    ),
}


def write_firm(folder: Path) -> Path:
    """Write the firm's people.csv, clients.csv and cards/ into `folder`; return it."""
    cards = {
        card_id: (
            title,
            team,
            ", ".join(owners),
            ", ".join(aliases),
            what,
            "Practical.",
            "- Mid-sized companies",
            situations,
            "- What is coming up this year?",
        )
        for card_id, (title, team, owners, aliases, what, situations) in CARDS.items()
    }
    return firm.write_firm(folder, PEOPLE, CLIENTS, cards)
