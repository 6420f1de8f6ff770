"""Given names and their usual short forms: "Bill" is William, "Paco" is Francisco.

A short form shares few letters with its name, so no string similarity finds it and a
first-name comparison would call the two different: a contradiction that stops any
automatic link. Each group below is a name (or a few spellings of it) with the
diminutives in common use in English, French, Spanish, German and Italian; two first
names are one person's when some group holds both. A diminutive shared by several
names ("Alex": Alexander and Alexandra; "Pat": Patrick and Patricia) is in each group,
so it is compatible with all of them, and two different full names never are: how much
that agreement weighs is the model's to learn, like any level.

Names are folded as the comparison keys are (lower case, no accents, hyphens as
spaces): see `rcu.normalisation.names`.
"""

from __future__ import annotations

from functools import lru_cache

_GROUPS = (
    # English
    "william bill billy will willy willie liam",
    "robert bob bobby rob robbie bert",
    "richard dick rick ricky rich richie",
    "james jim jimmy jamie",
    "john jack johnny jon",
    "jonathan jon jonny",
    "thomas tom tommy",
    "michael mike mick mickey mikey",
    "christopher chris kit",
    "christine christina chris chrissie tina",
    "alexander alex sandy xander",
    "alexandra alex sandra sandy lexi",
    "elizabeth liz lizzie lizzy beth betty betsy eliza bess bessie libby",
    "margaret maggie meg peggy marge margie madge greta",
    "catherine katherine kathryn kate katie kathy cathy kitty kat",
    "patricia pat patty tricia trish",
    "patrick pat paddy",
    "jennifer jenny jen",
    "rebecca becky becca",
    "daniel dan danny",
    "joseph joe joey",
    "samuel sam sammy",
    "samantha sam sammy",
    "benjamin ben benny",
    "edward ed eddie ted ned",
    "anthony tony",
    "andrew andy drew",
    "nicholas nick nicky",
    "charles charlie chuck chas",
    "henry harry hank",
    "harold harry hal",
    "david dave davy",
    "stephen steven steve stevie",
    "matthew matt",
    "peter pete",
    "timothy tim timmy",
    "gregory greg",
    "jeffrey geoffrey jeff geoff",
    "kenneth ken kenny",
    "ronald ron ronnie",
    "donald don donny",
    "gerald gerry jerry",
    "lawrence laurence larry",
    "leonard len lenny",
    "albert al bert bertie",
    "alfred alf alfie fred",
    "frederick fred freddie freddy",
    "francis frank frankie",
    "frances fran fanny frankie",
    "susan sue susie suzy",
    "deborah debbie debby deb",
    "dorothy dot dottie dolly",
    "barbara barb babs",
    "victoria vicky vickie tori",
    "jessica jess jessie",
    "abigail abby abbie",
    "judith judy",
    "pamela pam",
    "sarah sara sally",
    "mary molly polly",
    "ann anne anna annie nancy nan",
    "helen nell nellie",
    "eleanor ellie nell nora",
    "isabel isabella izzy bella",
    "joshua josh",
    "nathaniel nathan nate nat",
    "zachary zach zack",
    "philip phillip phil",
    "raymond ray",
    "walter walt wally",
    "eugene gene",
    "vincent vince",
    "douglas doug",
    "theodore theo ted teddy",
    "ernest ernie",
    "stanley stan",
    "gwendolyn gwen",
    # French
    "alexandre alex",
    "nicolas nico",
    "christophe chris",
    "frederic fred",
    "frederique fred",
    "elisabeth babeth lisa lise",
    "isabelle isa",
    "dominique dom",
    "maximilien max",
    "maxime max",
    # Spanish
    "francisco paco pancho curro",
    "jose pepe",
    "manuel manolo manu",
    "dolores lola",
    "concepcion concha conchi",
    "guadalupe lupe",
    "ignacio nacho",
    "enrique quique",
    "rosario charo",
    "jesus chucho chus",
    "antonio tono",
    "fernando nando",
    "alejandro alex",
    "alejandra alex",
    # German
    "johannes hans jo",
    "johann hans",
    "wilhelm willi willy",
    "friedrich fritz",
    "margarete grete gretchen",
    "katharina kathi katja",
    "heinrich heinz",
    # Italian
    "giuseppe beppe peppe pino",
    "giovanni gianni",
)


def _index() -> dict[str, frozenset[int]]:
    groups: dict[str, set[int]] = {}
    for number, group in enumerate(_GROUPS):
        for name in group.split():
            groups.setdefault(name, set()).add(number)
    return {name: frozenset(numbers) for name, numbers in groups.items()}


_GROUPS_OF = _index()


@lru_cache(maxsize=65_536)
def known_short_form(x: str, y: str) -> bool:
    """Whether two different folded first names are a name and one of its usual short
    forms (or two short forms of one name)."""
    if x == y:
        return False
    x_groups = _GROUPS_OF.get(x)
    return bool(x_groups and x_groups & _GROUPS_OF.get(y, frozenset()))
