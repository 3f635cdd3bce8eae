"""English and French names of the same thing that transliteration similarity does not catch
("Korea" / "Corée", "Beijing" / "Pékin"), for the verifier (qa.verify)."""

from __future__ import annotations

__all__ = ["EXONYM_PAIRS", "exonyms"]

EXONYM_PAIRS = """korea:coree korean:coreen korean:coreenne koreans:coreens north:nord south:sud china:chine
korean:coree chinese:chinois chinese:chinoise japan:japon japanese:japonais america:amerique american:americain
american:americaine americans:americains united:unis states:etats us:etats us:unis us:americain usa:etats
usa:unis russian:russe russians:russes russia:russes soviet:sovietique germany:allemagne german:allemand
britain:bretagne british:britannique england:angleterre european:europeen european:europeenne west:ouest
east:est war:guerre cold:froide white:blanche house:maison kingdom:royaume un:onu nato:otan eu:ue
ukrainian:ukrainien pentagon:pentagone defence:defense ministry:ministere
foreign:etrangeres affairs:affaires council:conseil security:securite january:janvier february:fevrier
march:mars april:avril may:mai june:juin july:juillet august:aout september:septembre october:octobre
november:novembre december:decembre monday:lundi tuesday:mardi wednesday:mercredi thursday:jeudi
friday:vendredi saturday:samedi sunday:dimanche
spain:espagne spanish:espagnol spanish:espagnole italy:italie italian:italien italian:italienne
greece:grece greek:grec greek:grecque dutch:neerlandais belgium:belgique belgian:belge
switzerland:suisse swiss:suisse austria:autriche austrian:autrichien poland:pologne polish:polonais
sweden:suede swedish:suedois norway:norvege norwegian:norvegien denmark:danemark danish:danois
finland:finlande ireland:irlande irish:irlandais scotland:ecosse scottish:ecossais wales:galles
hungary:hongrie turkey:turquie turkish:turc egypt:egypte egyptian:egyptien india:inde indian:indien
brazil:bresil brazilian:bresilien mexico:mexique mexican:mexicain australia:australie
algeria:algerie morocco:maroc tunisia:tunisie syria:syrie lebanon:liban iraq:irak
saudi:saoudite arabia:arabie vietnam:viet cyprus:chypre
beijing:pekin moscow:moscou london:londres vienna:vienne warsaw:varsovie lisbon:lisbonne athens:athenes
brussels:bruxelles venice:venise geneva:geneve
french:francais french:francaise africa:afrique asia:asie
african:africain asian:asiatique atlantic:atlantique pacific:pacifique mediterranean:mediterranee
god:dieu church:eglise king:roi queen:reine emperor:empereur pope:pape
battle:bataille university:universite republic:republique
parliament:parlement senate:senat minister:ministre army:armee"""


def exonyms() -> dict[str, set[str]]:
    """Each name of `EXONYM_PAIRS` with the names it stands for in the other language."""
    table: dict[str, set[str]] = {}
    for pair in EXONYM_PAIRS.split():
        a, b = pair.split(":")
        table.setdefault(a, set()).add(b)
        table.setdefault(b, set()).add(a)
    return table
