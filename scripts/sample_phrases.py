"""The phrase banks of the sample-data generator: race-reader wording, names, courses and teacher reasoning.

Pure data, kept apart from the logic in `generate_sample_data.py`. Each bank is tagged
with the signal its phrases imply (in_form, out_of_form, better_than_show, worse_than_show) or the race
strength its sentences support; in-running banks come in longhand and race-reader shorthand, and prose
banks are rendered once per sex at import, so generating a million rows never formats a bank again.
"""

from __future__ import annotations

from typing import NamedTuple


def _entries(text: str) -> tuple[str, ...]:
    """The entries of a bank written as ';'-separated phrases over several lines."""
    return tuple(entry.strip() for entry in " ".join(text.split()).split(";") if entry.strip())


IF, OOF, BTS, WTS = "in_form", "out_of_form", "better_than_show", "worse_than_show"
SEXES = tuple(
    entry.split() for entry in _entries("gelding he his him; colt he his him; filly she her her; mare she her her")
)

SHORTHAND = [
    entry.split("=")
    for entry in _entries("""tracked leaders=trckd ldrs; tracked leader=trckd ldr;
    chased leaders=chsd ldrs; chased leader=chsd ldr; held up=hld up; in touch=in tch; headway=hdwy; every chance=ev ch;
    lost place=lost pl; hard ridden=hrd rdn; ridden=rdn; weakened=wknd; kept on=kpt on; one pace=one pce;
    never dangerous=nvr dngrs; not clear run=nt clr run; hampered=hmpd; dwelt=dwlt; slowly into stride=s.i.s;
    nearest finish=nrst fin; inside final furlong=ins fnl f; final 100yds=fnl 100yds; in rear=in rr;
    entering final furlong=entering fnl f; switched=swtchd; raced prominently=prom; prominent=prom; ran on=r.o;
    stayed on=styd on; outpaced=outpcd; towards rear=towards rr; leaders=ldrs; never=nvr; no impression=no imp""")
]


def _groups(text: str) -> list[tuple[str, ...]]:
    """Several banks written as one text, separated by '|'."""
    return [_entries(group) for group in text.split("|")]


def _shorthand(phrase: str) -> str:
    """A longhand in-running phrase in race-reader shorthand."""
    for long, short in SHORTHAND:
        phrase = phrase.replace(long, short)
    return phrase


POINTS = _entries("""halfway; over 3f out; 3f out; over 2f out; 2f out; over 1f out; 1f out; entering final furlong;
    inside final furlong; final 100yds""")
POINT_TEXT = (POINTS, tuple(_shorthand(p) for p in POINTS))  # by style: longhand, shorthand


class Chain(NamedTuple):
    """In-running phrases by style (longhand, shorthand); a `{p}` in them takes a point from POINTS[lo:hi+1]."""

    phrases: tuple[tuple[str, ...], tuple[str, ...]]
    lo: int = 0
    hi: int = len(POINTS) - 1

    def within(self, lo: int, hi: int) -> Chain:
        """The same phrases, their points limited to the stretch of the race from POINTS[lo] to POINTS[hi]."""
        return self._replace(lo=lo, hi=hi)


def _chain(text: str) -> Chain:
    """An in-running bank in both styles."""
    phrases = _entries(text)
    return Chain((phrases, tuple(_shorthand(p) for p in phrases)))


def _prose(text: str) -> tuple[tuple[str, ...], ...]:
    """A sentence bank rendered once per sex ({he}, {his}, {him}, {He}, {His}, {sex}), indexed by sex."""
    return tuple(
        tuple(
            e.format(sex=s, he=he, his=his, him=him, He=he.capitalize(), His=his.capitalize()) for e in _entries(text)
        )
        for s, he, his, him in SEXES
    )


# In-running banks, in race order. A tagged bank's phrases carry that signal.
START = _chain("broke well; quickly away; away on terms; jumped smartly; broke on terms; keen to post")
START_BTS = _chain("""dwelt; slowly into stride; missed the break; reared as stalls opened; badly away;
    blindfold removed late, slowly away; hampered leaving stalls; lost several lengths at the start""")
POSITION = {
    "front": _chain("led; made running; disputed lead; set the pace; led early; went on after 1f; led main group"),
    "prominent": _chain("""tracked leaders; chased leaders; prominent; handy; raced close up; tracked leader;
        chased leader; raced in second; raced prominently; chased leaders towards stands' side"""),
    "mid": _chain("""in touch; mid-division; raced in mid-division; midfield; in touch in centre; settled in midfield;
        in touch on outer; in touch towards far side"""),
    "rear": _chain("""held up; held up in rear; towards rear; held up in last; settled off the pace; behind; in rear;
        held up towards rear; dropped in from wide draw, held up"""),
}
WIN_FRONT = _chain("made all; made virtually all; made most; led, soon clear; set the pace, always in control")
LEAD_WTS = _chain("allowed an easy lead; soft lead; allowed to dictate; uncontested lead; led at a steady pace")
MIDDLE = _chain("""pushed along {p}; ridden {p}; hard ridden {p}; took a keen hold early; travelled well; niggled along
    {p}; raced freely; ridden along {p}; raced in the centre; shaken up {p}""").within(0, 4)
MIDDLE_OOF = _chain("""never travelling; hung left {p}; hung badly right {p}; carried head awkwardly {p};
    ran in snatches; pulled hard and hung; flashed tail under pressure {p}; raced lazily and soon struggling
    """).within(0, 4)
WIDE_BTS = _chain("""raced wide throughout; forced wide {p}; raced on the unfavoured side; raced alone on far side;
    carried wide {p}; wide into the straight, lost ground""").within(0, 3)
PROGRESS = _chain("""headway {p}; progress {p}; made headway on outer {p};
    closed {p}; improved {p}; effort {p}""").within(1, 5)
HEADED = _chain("headed {p}; collared {p}; joined {p}, soon headed; lost the lead {p}").within(3, 6)
TROUBLE = _chain("""not clear run {p}; hampered {p}; short of room {p}; denied a clear run {p}; checked {p};
    badly hampered {p}; squeezed out {p}; boxed in {p}; had to wait for room {p}; blocked {p}""").within(3, 7)
SWITCH = _chain("switched right; switched left; switched to outer; had to switch; switched and lost momentum")
CHALLENGE = _chain("""every chance {p}; challenged {p};
    disputed lead {p}; joined leader {p}; went second {p}""").within(4, 7)
FINISH = {
    (
        "won",
        None,
    ): _chain("""led {p}, kept on; led {p}, pushed out; ran on to lead {p}; kept on well; driven out; held on;
        led close home; asserted {p}; got up near finish""").within(5, 9),
    ("front", None): _chain("""kept on well; driven out; held on;
        pushed clear {p}; kept finding; ridden clear {p}""").within(5, 9),
    ("won", IF): _chain("""rallied gamely to lead {p}; found plenty when asked; battled on bravely; quickened clear {p};
        ran on strongly to lead close home; won readily; kept finding more""").within(5, 9),
    (
        "close",
        None,
    ): _chain("""kept on; kept on {p}; stayed on; held {p}; no extra close home; ran on {p}; just held {p};
        not quicken close home; kept on but always held""").within(6, 9),
    ("close", IF): _chain("""rallied gamely {p}; battled on gamely;
        kept on strongly; stuck to task well {p}""").within(6, 9),
    ("close", BTS): _chain("""ran on when too late;
        finished well, nearest finish; flew home once clear {p}""").within(6, 9),
    (
        "mid",
        None,
    ): _chain("""one pace {p}; kept on same pace; no impression {p}; plugged on; weakened {p}; never dangerous;
        stayed on without threatening; kept on at one pace; no extra {p}""").within(5, 9),
    ("mid", IF): _chain("kept on gamely; stuck on willingly {p}; battled on to the line").within(6, 9),
    ("mid", OOF): _chain("found nothing when asked; weakened tamely {p}; gave up quickly {p}").within(4, 7),
    ("mid", BTS): _chain("""ran on when too late;
        finished with running left; ran on well once switched {p}""").within(6, 9),
    ("beaten", None): _chain("""weakened {p}; lost place {p}; dropped away {p}; never dangerous; outpaced {p};
        left behind {p}; soon struggling; no impression {p}""").within(3, 7),
    ("beaten", OOF): _chain("""found nothing when asked; weakened tamely {p}; downed tools {p}; eased when beaten;
        tailed off; dropped right out {p}""").within(2, 6),
    ("beaten", BTS): _chain("ran on late, nearest finish; stayed on when the race was over").within(6, 9),
}

# Verdict sentences: a core carries its signal; a tail extends a core without changing what it says.
VERDICT = {
    IF: _prose("""Remains in fine form; {He} is thriving at present; This was a career-best effort; Back to form with
        a bang; Ran right up to {his} best; Best effort of the season; Continues on the upgrade; Is on a roll and
        remains progressive; Looked better than ever; Will remain of interest; One to keep on side; Progressive {sex}
        who should win again; {He} rallied gamely when headed; Showed a good attitude under pressure; In the form of
        {his} life; Appreciated the step up in trip and is going the right way; Built on {his} promising
        reappearance; Has improved with every run this season; Holds {his} form well"""),
    OOF: _prose("""Hard to fancy at present; Continues out of sorts; Found nothing when asked; Disappointing again;
        Looks to have lost {his} way; Is on a long losing run and best watched; Well below form for the third run in a
        row; Hung badly and looked reluctant; Carried {his} head awkwardly under pressure; Gave up tamely; Seems to have
        gone off the boil; Has become disappointing; Not one to trust; Showed little for the second run running;
        {His} form has tailed off since the spring"""),
    BTS: _prose("""Shaped better than the bare result; Better than the bare result suggests; Can be rated better than
        {his} finishing position; Unlucky not to finish closer; Worth marking up; Deserves another chance; Ran better
        than {his} position suggests; Did well from a poor draw; Ran well considering {he} raced on the wrong side;
        The run of the race went against {him}; Did best of those held up in a race dominated from the front; Never
        got a run at the crucial stage; Was poorly placed given how the race unfolded; Had plenty go wrong; Left with
        too much to do off a steady pace"""),
    WTS: _prose("""Flattered by {his} proximity; Had the run of the race; Got a soft lead; Was allowed an easy lead and
        may be flattered; Benefited from racing on the favoured rail; The race set up perfectly for {him}; Everything
        fell right for {him}; Probably flattered given how the race was run; Made the most of a dream run through;
        Gifted an uncontested lead"""),
}
TAIL = {
    IF: _prose(""", and {he} should be followed; , and a rise in the weights may not stop {him}; , with further
        improvement likely; , so {he} remains one to keep onside; , and {he} is worth following"""),
    OOF: _prose(""", and {he} needs treating with caution; , so the handicapper will need to relent; , with no obvious
        excuse; , though the vet found nothing amiss; , and headgear may be tried next"""),
    BTS: _prose(""", and {he} is one to note; , so better can be expected next time; , and {he} is worth another
        look; , so take a positive view; , and {he} can be forgiven this"""),
    WTS: _prose(""", and {he} may struggle to confirm the form; , so don't overrate the run; , so treat the form with
        caution; , and life will be tougher from a higher mark"""),
}
RESULT = {  # neutral verdicts that fit how the horse finished
    "won": _prose("""Did enough; Landed a gamble; Won on {his} first try at the trip; Gained a deserved success; Won for
        the first time since last summer; Got off the mark in handicaps; Made it third time lucky at the course"""),
    "close": _prose("""Ran creditably; Held every chance; Probably ran to form; Ran to a similar level as last time;
        Wasn't far off {his} best; Ran respectably; Just came up short; Not disgraced"""),
    "mid": _prose("""Not disgraced; Ran respectably; Couldn't land a blow; Lacked the pace to challenge; Probably ran
        close to form; Should come on for the run; Ran about as well as expected"""),
    "beaten": _prose("""Couldn't land a blow; Never threatened to get involved; Should come on for the run; Needs some
        help from the handicapper; Has had a few chances now; Well held; Not seen to best effect"""),
}
NOTES = _prose("""Well handicapped on old form; Is on a fair mark; May prefer a stiffer test; Will be suited by a
    return to 7f; Ground may have been softer than ideal; Gelded since {his} last run; Making {his} handicap debut;
    Blinkers fitted for the first time; Tongue tie refitted; First run for a new yard; Returned from a break of {{n}}
    months; Up {{n}}lb for a recent win; Dropped {{n}}lb since {his} last run; Drawn {{n}} of {{m}}; Stays further
    than this; Had run only {{n}} times before this; Seems best on a sound surface; A return to the all-weather may
    suit; Cheekpieces replaced the visor; Raced off a career-high mark; Ran over an inadequate trip; Weak in the
    market; Well backed beforehand; Apprentice claimed {{n}}lb; {He} has yet to win beyond 1m; Stepped up to 1m4f
    for the first time; Sweated up beforehand; Raced from {{n}}lb out of the handicap; {He} had run well here when
    second over course and distance last season; Connections had been waiting for some cut in the ground; Tried in a
    first-time hood after racing too keenly on {his} previous start; {He} is only {{n}}lb higher than when last
    successful; The trainer said {he} would benefit from a break after a busy summer; Ridden by a {{n}}lb claimer
    for the first time, and the pair looked well suited""")
QUOTED = _prose("""The jockey reported that {he} "never travelled"; Connections said the {sex} "didn't handle the
    bend"; The trainer's representative said {he} was "never happy on the ground"; The rider felt {he} "just didn't
    stay"; The vet reported the {sex} "lost a left-fore shoe\"""")
SHORT = _entries("""Never involved; Always behind; Prom, wknd 2f out; Outpaced; No show; Slowly away; Never a threat;
    Weakened late; Midfield, no impn; Hld up, nvr nrr; Led to 2f out""")
NONFINISH = {
    "PU": _prose("""Lost {his} action and pulled up {{p}}; Pulled up after 2f, reported lame; Pulled up
                 {{p}}, the vet reported {he} bled from the nose"""),
    "F": _prose("Clipped heels and fell {{p}}; Stumbled badly and fell {{p}}"),
    "UR": _prose("""Stumbled leaving stalls and unseated rider; Unseated rider {{p}} after clipping heels;
                 Swerved badly right and unseated rider {{p}}"""),
}

# Race comments: tagged sentences decide race_strength, the rest narrate the race with its runners' names.
STRENGTH = {  # per strength: pace | field | outlook sentences
    "strong": _groups("""They went a strong gallop from the outset; A true test at the trip,
        with the leaders taking each other on from the start; Run at a furious pace that set things up for the
        closers; A fierce early gallop stretched the field | A competitive field for the grade; A strong handicap
        with several last-time-out winners in the line-up; This looked a deep race; Good handicap form, rated
        positively; A competitive {dist} handicap for {course} | The form should work out well; Expect winners to
        come out of this; The first three pulled clear and the form looks solid; Several improvers in the field
        make this form to be positive about"""),
    "weak": _groups("""Slowly run; A steady early pace turned this into a sprint from 2f
        out; They dawdled for much of the way and few got involved from off the pace; A muddling gallop made this
        a messy race; This was tactical and falsely run | A modest affair; Weak form for the grade; Few came into
        this in form; A poor race for the grade; An uncompetitive handicap with little strength in depth | The form
        is unlikely to prove strong; Not form to take too literally given how it was run; Treat the form with
        caution"""),
    "average": _groups("""They went an even gallop; Run at a fair pace; The pace was sound
        enough without being strong; An ordinary gallop for the grade | An ordinary handicap; A fair race for the
        grade; An average handicap for the grade; A run-of-the-mill {dist} handicap; A typical {course} handicap
        for the grade | Form to take at face value; The form looks sound enough at an average level; The form is
        rated around the placed horses; Solid if unspectacular form"""),
}
STORY = tuple(
    _entries(bank)
    for bank in (  # winner, placed, fourth, beaten horses: told in this order
        """{W} made all and was never seriously threatened; {W} came from off the pace to lead inside
    the final furlong; {W} got on top close home after a sustained duel with {S}; {W} travelled best throughout and
    won with a bit in hand; {W} swept through from the rear to lead entering the final furlong; {W} stuck to the
    far rail and kept on willingly; {W}, up in the weights for a narrow win last time, was ridden with plenty of
    confidence and quickened clear once switched to the outside over 1f out""",
        """{S} stayed on for second, with {T} not beaten far in third; {S} and {T} had every chance and finished clear
    of the rest; {S} was just denied, while {T} kept on for third; The first two pulled clear of {T}; {T} stayed
    on past beaten rivals to take third behind {S}""",
        """{F} ran well to take fourth; {F} was the best of those drawn high and took fourth; {F} finished well from
    the rear to grab fourth; {F} was a never-nearer fourth; Fourth-placed {F} was keeping on at the line""",
        """{L} was disappointing after an eye-catching run last time; {L} was never going the pace; {L} lost a shoe,
    according to the vet; {L} was reported to have run flat; {L} raced too freely early to get home; The
    favourite {L} never landed a blow; {L} was sent off a short price on the back of a good run at {course} but
    was beaten before the home turn; {L} was keeping on at the finish and will be of interest over further""",
    )
)
CONTEXT = tuple(
    _entries(bank)
    for bank in (  # draw, incidents, market, riders: anywhere
        """Those drawn low dominated, with the first three all from single-figure stalls; The stands' rail was the
    place to be; The field came centre to far side; High draws held sway over this {dist} at {course}; There was
    no obvious draw bias; The runners split into two groups, with the far-side group always holding the edge;
    Low draws are a big advantage at {course} over {dist} and it paid to race handily""",
        """Stewards held an inquiry into interference over 1f out but the placings remained unaltered; Several took a
    keen hold early; The start was delayed after {L} got loose on the way to post; A headwind in the straight made
    it hard to make up ground; A blanket finish was fought
    out between the first four; {W}'s trainer said the {dist} trip was ideal""",
        """{W} was well backed throughout the morning; {S} drifted markedly before the off; {W} was the subject of
    late support; {T} was sent off favourite; The market got this right, with the first two at the head of the
    betting""",
        """{W}'s rider picked up a two-day ban for careless riding; {S}'s jockey was fined for using the whip above
    the permitted level; {T}'s rider reported that the horse hung left throughout; {L} was found to be lame
    after the race""",
    )
)

FIRST = _entries("""Copper; Silent; Golden; Midnight; Royal; Wild; Lucky; Storm; Desert; Brave; Highland; Silver;
    Scarlet; Secret; Northern; Dancing; Captain's; Misty; Crimson; Iron; Velvet; Distant; Rapid; Hidden; Amber;
    Jazz; Noble; Restless; Harbour; Shadow; Winter; Ocean; Merry; Bold; Autumn; Kingston; Morning; Rebel;
    Duke's; Quiet; Mystic; Sea; Summer; Heather; Flying; Spring; Grand; Lady's; Blue; Stone""")
SECOND = _entries("""Verdict; Harbour; Legend; Echo; Dancer; Spirit; Arrow; Meadow; Flame; Warrior; Promise; Ridge;
    Rhythm; Voyage; Charm; Thunder; Crown; Glory; Whisper; Empire; Breeze; Falcon; Prince; Melody; Tiger; Comet;
    Bay; Command; Lantern; Emblem; Diamond; Sonnet; Rebel; Cavalier; Story; Horizon; Star; Duchess; Oak; Citadel""")
IRISH = ("Sliabh Bán", "Cois Farraige", "Réalt na Maidne", "Fáilte Abhaile", "Gaoth Aduaidh", "Ard Rí", "Cúl Bán",
         "Bláth Bán", "Cnoc Álainn", "Síol Óir", "Tír na nÓg", "Scéal Eile", "Bóthar Buí", "Ré Nua", "Cáit Rua",
         "Dún Éigse", "Fánaí", "Glór na Mara", "Lá Breá", "Míle Fáilte")
NAMES = tuple(f"{a} {b}" for a in FIRST for b in SECOND if a != b) + IRISH
COURSES: dict[str, str] = {
    name: "aw"
    for name in ("Kempton", "Lingfield", "Wolverhampton", "Southwell", "Chelmsford City", "Newcastle", "Dundalk")
}
COURSES.update(
    (name, "turf")
    for name in _entries("""Newmarket; Ascot; York; Goodwood; Doncaster; Haydock;
    Sandown; Epsom; Chester; Newbury; Leicester; Nottingham; Pontefract; Redcar; Thirsk; Ripon; Beverley;
    Catterick; Musselburgh; Hamilton; Ayr; Carlisle; Windsor; Salisbury; Bath; Brighton; Chepstow; Yarmouth;
    Curragh; Leopardstown; Galway; Naas; Cork; Navan; Tipperary; Limerick; Listowel; Killarney; Sligo""")
)
GOING = {
    "aw": ("standard", "standard to slow"),
    "turf": ("good to firm", "good", "good", "good to soft", "soft", "heavy", "firm", "yielding"),
}
DISTANCES = ("5f", "6f", "6f", "7f", "7f", "1m", "1m", "1m1f", "1m2f", "1m2f", "1m4f", "1m6f", "2m")
GROUND = {  # the ground sentence of the race comment, by surface
    "turf": _entries("""The ground was riding {going}; The ground was officially {going}; Times suggested the ground
        was riding close to {going}; Jockeys reported the ground riding {going}; Run on {going} ground; Watered
        ground rode quicker than the official description of {going}; The clerk of the course described the ground
        as "{going}, safe and even\""""),
    "aw": _entries("""The surface was riding {going}; The all-weather surface was officially {going}; Jockeys
        reported the surface riding {going}; Conditions were {going}; Run on a {going} surface; Times suggested the
        surface was riding {going}; The clerk of the course described the surface as "{going}, with a little
        kickback\""""),
}


# Teacher reasoning, as long as the user's teacher writes it (a median of five lines at 80 columns): a form sentence,
# a sentence on luck (or on its absence), a race sentence, and sometimes one on the result; {q} quotes the comment
# and {r} is the result line ("3rd of 12, involved in finish").
FORM_REASON = {
    IF: _entries("""The comment says “{q}”, which points to a horse in good heart that should run well again, so in_form
        is set; The words “{q}” describe a horse that is thriving at present, and nothing elsewhere in the comment
        contradicts that positive reading of its form; In form on the strength of “{q}”, a clear positive about the
        horse’s current condition rather than a one-off effort; “{q}” is a clear positive about current form and
        attitude, the kind of remark that usually precedes another good run"""),
    OOF: _entries("""“{q}” marks a horse going the wrong way, and the rest of the comment gives no excuse that would
        explain the run away, so out_of_form is set; Out of form: the comment says “{q}”, which reads as a lasting
        problem rather than one bad run; “{q}” is a negative about both attitude and form, so the horse is hard to
        trust next time and out_of_form applies; The comment’s “{q}” points to a horse regressing, with no sign in
        the running that anything went against it"""),
    None: _entries("""Nothing beyond “{q}” says the horse is thriving or regressing, so neither form flag is set for
        what reads as an ordinary run; The run itself (“{q}”) is described without any verdict on the horse’s
        current form, so neither in_form nor out_of_form; “{q}” describes how the race was run for this horse without
        a clear signal about its form either way, so both form flags stay off"""),
}
LUCK_REASON = {
    BTS: _entries("""“{q}” means it ran better than the result, since the finishing position hides how much went
        against it; Better than the bare result: “{q}” is an excuse that would have cost it ground at a key stage;
        With “{q}”, the finishing position understates the run, so better_than_show is set; “{q}” is an excuse that
        marks the run up, and the horse is worth rating above where it finished"""),
    WTS: _entries("""“{q}” suggests the result flatters it, because the race was run to suit and it had things its
        own way; Worse than the result shows: “{q}” means it got an easy time of it that others did not; The
        comment’s “{q}” means the bare form overrates the run, so worse_than_show is set"""),
    None: _entries("""There is no mention of trouble in running or of a soft lead, so the result is taken at face
        value; Nothing in the running suggests bad luck or a flattering run, so neither better_than_show nor
        worse_than_show; The comment gives no excuse and no sign of the race being run to suit, so the result
        stands as it is"""),
}
RACE_REASON = {
    "strong": _entries("""The race comment’s “{q}” makes this strong form, and the rest of the race narrative does
        not undermine it; Race strength is strong: “{q}” describes a competitive contest that should produce
        winners; “{q}” marks the race as strong, so the form can be rated positively"""),
    "average": _entries("""The race comment’s “{q}” reads as average form, neither strong enough to upgrade nor weak
        enough to doubt; “{q}” puts the race at an average level for the grade; Race strength average: “{q}” gives
        no reason to rate the form above or below its face value"""),
    "weak": _entries("""The race comment’s “{q}” makes this weak form, so the run should not be overrated; “{q}”
        marks the race as weak, which tempers any positive reading of the run; Race strength weak, given “{q}”, so
        the form may not hold up against better opposition"""),
    "no_signal": _entries("""The race comment says nothing about the strength of the race, so race_strength is
        no_signal; No signal on race strength in the race comment, which narrates the race without judging it"""),
}
RESULT_REASON = _entries("""The result line ({r}) fits that reading of the run; The result ({r}) is consistent with this
    assessment; Taken with the result, {r}, the signals above are the fair reading of the comment; The bare result,
    {r}, adds nothing that changes this view""")
