"""A small firm written on the fly for search tests (no shared data needed)."""

from __future__ import annotations

from pathlib import Path

from tests import firm

PEOPLE = """email,name,team,office,title,role
asha.rao@firm.example,Asha Rao,Employment,Manchester,Partner,member
ben.cole@firm.example,Ben Cole,Employment,London,Associate,member
cara.diaz@firm.example,Cara Díaz,Real Estate,London,Partner,member
dan.ekwueme@firm.example,Dan Ekwueme,Corporate,Leeds,Partner,member
eve.fox@firm.example,Eve Fox,Tax,London,Director,member
finn.gray@firm.example,Finn Gray,Restructuring,Manchester,Partner,member
gail.hunt@firm.example,Gail Hunt,Operations,London,Head of Knowledge,admin
"""
CLIENTS = """name,aliases,sector,owner,services
Northwind Foods Ltd,Northwind;Northwind Group,food,dan.ekwueme@firm.example,tax
Tallis Hotels,Tallis,hospitality,,property
"""
CARDS = {
    "employment": (
        "Employment law",
        "Employment",
        "asha.rao@firm.example, ben.cole@firm.example",
        "HR law, tribunal",
        "We advise employers on dismissals, redundancies, TUPE transfers, tribunal claims "
        "and settlement agreements.",
        "Offer help with the people problem the client already has.",
        "- Employers with large workforces",
        "- A client is restructuring and staff will lose their jobs\n"
        "- An employee has raised a grievance or brought a claim",
        "- What changes to your workforce are coming?\n- Any disputes with staff?",
    ),
    "property": (
        "Commercial property",
        "Real Estate",
        "cara.diaz@firm.example",
        "real estate, leases",
        "We act for landlords and tenants on leases, lease renewals, break clauses, "
        "forfeiture and possession, and buying and selling commercial buildings, "
        "including stamp duty.",
        "Position us as practical property lawyers.",
        "- Retailers and hotel groups",
        "- A lease is about to expire or the landlord wants the premises back",
        "- When does your lease end?\n- Are you planning to move?",
    ),
    "corporate": (
        "Mergers and acquisitions",
        "Corporate",
        "dan.ekwueme@firm.example",
        "M&A, selling a business",
        "We advise on buying and selling companies, share purchases, management buyouts "
        "and exits for owner-managed businesses.",
        "We make deals happen.",
        "- Founders and family businesses",
        "- A founder is thinking about retirement or an exit",
        "- Have you thought about succession?\n- Any approaches from buyers?",
    ),
    "tax": (
        "Business tax",
        "Tax",
        "eve.fox@firm.example",
        "corporation tax, HMRC enquiries",
        "We advise companies on corporation tax, R&D tax relief claims and HMRC enquiries.",
        "Tax savings that stand up to HMRC.",
        "- Growing companies",
        "- HMRC opens an enquiry into a claim",
        "- When did you last review your tax position?\n- Do you claim R&D relief?",
    ),
    "insolvency": (
        "Restructuring and insolvency",
        "Restructuring",
        "finn.gray@firm.example",
        "insolvency, CVA",
        "We help directors of companies in financial difficulty: administration, "
        "liquidation, company voluntary arrangements and creditor claims.",
        "Early advice saves businesses.",
        "- Companies under pressure from creditors",
        "- A client cannot pay its debts as they fall due",
        "- How is cash flow?\n- Are creditors pressing?",
    ),
}


def write_firm(root: Path) -> Path:
    """Write the small firm under `root` and return its folder."""
    return firm.write_firm(root, PEOPLE, CLIENTS, CARDS)
