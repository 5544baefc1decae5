"""What a sentence of a study reports: its aim or method, or a finding, tested or null.

A question on a study is answered, and a yes/no question decided, by what the study found, not by
what it set out to do: these readers tell the two apart. Words of scientific English only.
"""

from __future__ import annotations

import re

# A sentence that states what a study set out to do, what is not known, or how it was done, rather
# than what it found: "To evaluate whether …", "This study sought to …", "The aim of this study …",
# "It remains unclear whether …", "Patients were randomised to …". Words of scientific English only.
_AIM_OR_METHOD = re.compile(
    r"^\s*(?:in (?:this|the present|the current) (?:study|trial|work),?\s*)?to (?:evaluate|assess|determine|investigate|"
    r"examine|compare|explore|describe|test|analy[sz]e|identify|estimate|measure|characteri[sz]e|quantify|clarify|establish|"
    r"review|study|report|ascertain|define|validate|elucidate|understand)\b"
    r"|\b(?:this|the present|the current|our) (?:study|trial|analysis|review|survey|work|investigation|paper|report|project|"
    r"research) (?:(?:was|is) )?(?:aim|aimed|aims|sought|seeks|designed|planned|undertaken|intended|set out|examines|examined|"
    r"evaluates|evaluated|investigates|investigated|assesses|assessed|compares|compared|explores|explored|describes|"
    r"described|addresses|addressed|tests|tested)\b"
    r"|\b(?:aims?|objectives?|purposes?|goals?) (?:of|in) (?:this|the|our) (?:present |current )?(?:study|trial|analysis|"
    r"review|survey|work|investigation|paper|report|project|research)\b|^\s*(?:the |our )?(?:aim|objective|purpose|goal)s? "
    r"(?:was|were|is|are) to\b"
    r"|\bwe (?:aimed|sought|set out|hypothesi[sz]ed|wanted|intended)\b"
    r"|\b(?:determin|assess|evaluat|investigat|examin|test|establish|clarif|explor|ascertain)\w* whether\b|\bwe ask(?:ed)? whether\b"
    r"|\b(?:remains?|is|are) (?:unclear|unknown|controversial|not known|poorly understood)\b|\blittle is known\b"
    # What a study looked at ("We compared the effects of …"), unless the sentence says what was found.
    r"|\bwe (?:\w+ly )?(?:evaluated|compared|examined|assessed|investigated|studied|analy[sz]ed|explored) the "
    r"(?:differences?|associations?|relationships?|effects?|impact|role|correlations?)\b"
    r"(?![^.]*\b(?:found|find|showed|show|revealed|demonstrated|confirmed|was|were)\b)"
    # A hypothesis as the subject of its sentence, or put to the test, unless the sentence says what was found.
    r"|^\s*(?:the|our|this|a) (?:\w+ ){0,2}hypothes[ie]s (?:of (?:this|the|our) (?:\w+ ){0,2}(?:study|trial|work|research) )?"
    r"(?:is|was) that\b"
    r"|\b(?:we|to) (?:tested|test|examined|examine|evaluated|evaluate|investigated|investigate) (?:the|our|this) hypothes[ie]s\b"
    r"(?![^.;]*\b(?:found|find|showed|show|revealed|demonstrated|confirmed)\b)"
    # How the statistics were done: "P < 0.05 was considered significant", "Significance was set at …".
    r"|\bconsidered (?:to (?:be|indicate) )?(?:an? )?(?:statistically )?significan|\bsignificance (?:was|is|were) (?:set|defined|"
    r"accepted|assumed)|\b(?:level|threshold) of (?:statistical )?significance\b|\bsignificance (?:level|threshold)\b"
    r"|\b(?:were|was) (?:randomi[sz]ed|randomly assigned|enrolled|recruited)\b|\b(?:are|is|were|was) (?:prospectively|"
    r"retrospectively) (?:registered|collected|recorded|reviewed|analy[sz]ed|enrolled)\b",
    re.IGNORECASE)
# How a study was done ("Patients were excluded if …", "Primary outcome measures were …", "This
# prospective case-control study consisted of …"), unless the sentence also reports what it found.
_METHOD = re.compile(
    r"\b(?:were|was) (?:excluded|included|followed|divided|allocated|assigned|stratified|selected|interviewed|surveyed|"
    r"screened|performed|conducted|carried out|collected|obtained|retrieved|reviewed|identified|matched|categori[sz]ed|"
    r"classified|grouped|administered|given|treated|tested|used|employed|applied|recorded|calculated|estimated|evaluated|"
    r"assessed|measured|analy[sz]ed|studied|examined|investigated|compared|determined)\b"
    r"|\b(?:were|was) (?:informed|explored|sampled|invited|contacted|approached|reviewed|randomi[sz]ed|registered|asked)\b"
    r"|\bwe (?:\w+ly )?(?:performed|used|analy[sz]ed|included|enrolled|reviewed|recruited|conducted|collected|examined|"
    r"evaluated|assessed|studied|investigated|selected|followed|surveyed|interviewed|screened|defined|tested|applied|"
    r"searched|extracted|sampled|matched)\b"
    r"|\b(?:to|we|was|were) (?:\w+ )?(?:determin|assess|evaluat|investigat|examin|test|establish|explor|ascertain)\w* if\b"
    r"|\bhere,? we (?:\w+ly )?(?:investigat|examin|evaluat|assess|test|explor|stud|analy[sz])\w*"
    r"|\b(?:is|are|was|were) used to (?:assess|evaluate|determine|identify|compare|examine|estimate|measure|test|"
    r"calculate|analy[sz]e|define|predict|adjust|model)\b"
    r"|\b(?:variables|parameters|factors|data|measures|outcomes) (?:analy[sz]ed|collected|recorded|assessed|examined|"
    r"studied|evaluated|considered) (?:was|were|included)\b"
    r"|\b(?:this|the|our) (?:present |current )?(?:study|trial) (?:was|is) an? (?:[\w-]+,? ){0,5}(?:study|trial|"
    r"analysis|review|survey|audit)\b"
    r"|\b(?:outcome|end ?point)s?(?: measures?)? (?:was|were|included)\b|\bwill be\b"
    r"|\b(?:study|trial|analysis|cohort|sample|survey|population) (?:consisted|comprised|included|involved|enrolled)\b"
    r"|\b(?:prospective|retrospective|randomi[sz]ed|cross-sectional|case-control|cohort|observational|longitudinal|pilot|"
    r"descriptive|comparative) (?:\w+ )?(?:study|trial|analysis|review|survey|design)\b",
    re.IGNORECASE)
_REPORTS_FINDING = re.compile(
    r"\bp\s*[<=>≤]|\d\s?%|\b(?:significant(?:ly)?|associated|correlat\w*|(?:odds|hazard|risk) ratio|higher|lower|greater|"
    r"fewer|more|less|increas\w*|decreas\w*|reduc\w*|improv\w*|differ\w*|predict\w*|showed|found|revealed|"
    r"demonstrated|suggest\w*|indicat\w*|conclude\w*)\b", re.IGNORECASE)


# Results worded without the words above: null results, comparisons, counts of events, decimals.
_REPORTS_RESULT = re.compile(r"\b(?:similar|comparable|unchanged|observed|died|doubled|halved|tripled|vs\.?|versus|"
                             r"(?:did|does|was|were) not|no (?:\w+ )?(?:benefit|effect|difference|association|change))\b|\d\.\d",
                             re.IGNORECASE)


def states_aim_or_method(text: str) -> bool:
    """Whether a sentence states a study's aim, an open question or a method, not a finding."""
    return bool(_AIM_OR_METHOD.search(text)) or bool(_METHOD.search(text) and not _REPORTS_FINDING.search(text))


def reports_finding(text: str) -> bool:
    """Whether a sentence reports what a study found (an effect, a comparison, a null result), not
    its aim, its method or the background it starts from."""
    return not states_aim_or_method(text) and bool(_REPORTS_FINDING.search(text) or _REPORTS_RESULT.search(text))


# A finding tested against something: a statistic with its value (a p value, a ratio, an interval)
# or a null result. A study's main result reads so; a count of its sample does not.
_TESTED_FINDING = re.compile(
    r"\bp\s*[<=>≤]\s*0?\.\d|\b(?-i:a?OR|HR|RR|IRR)\b\s*[=:,]?\s*\d|\b(?:odds|hazard|risk|rate) ratio\b[^.;]{0,25}\d|"
    r"\b(?:confidence interval(?:\s*\((?-i:CI)\))?|(?-i:CI))[\s:=,]*-?\d|"
    r"\b(?:no|not) (?:\w+ ){0,2}(?:significant|benefit|effect|difference|association|change)|\bsignificantly\b|"
    r"\bsignificant (?:\w+ )?(?:difference|increase|decrease|reduction|improvement|association|correlation|effect)",
    re.IGNORECASE)


def is_tested_finding(text: str) -> bool:
    """Whether a finding is tested against something (a statistic with its value, a null result)."""
    return bool(_TESTED_FINDING.search(text))


# A finding that reports no effect: a difference, association or effect denied ("no significant
# difference", "were not associated with", "without any change"), short of significance ("p = 0.42",
# "(NS)"), or unchanged. Not "similar", which in a finding worded apart from the claim describes a
# level ("similar levels of fear"), and not where the sentence holds a significant result ("reduced
# stay (p < 0.001) with no change in falls" reports an effect).
_NULL_RESULT = re.compile(
    r"\b(?:no|not|nor) (?:\w+ ){0,3}(?:significant\w*|differ\w*|associations?|associated|effects?|change\w*|benefits?|"
    r"correlat\w*|predict\w*)|\bwithout (?:any )?(?:significant )?(?:differences?|changes?|effects?)\b|\bnon-?significant"
    r"|\bp\s*(?:[>\u2265]\s*0?\.\d|=\s*0?\.(?:[1-9]|0[6-9]))|\((?-i:NS)\)|\b(?:unchanged|comparable|unaffected)\b",
    re.IGNORECASE)
_SIGNIFICANT = re.compile(r"\bp\s*(?:[<\u2264]\s*0?\.0*[0-5]|=\s*0?\.0(?:[0-4]|5(?!\d)))", re.IGNORECASE)
_NOT_ONLY = re.compile(r"\bnot (?:only|just|merely)\b", re.IGNORECASE)
# A ratio with its value ("OR 1.41", "HR=0.42": not a heart rate's "HR rose by 12 bpm") or named in words.
_RATIO = re.compile(r"\b(?-i:a?OR|HR|RR|IRR)\s*[=:,]?\s*(?=\d)|\b(?:odds|hazard|risk|rate) ratio|\brelative risk\b(?! reduction)",
                    re.IGNORECASE)
# Its interval, starting soon after it; a decimal comma ("1,12-2,06") is not read as a separator.
_INTERVAL = re.compile(r"\b(?:CI|confidence interval)\b[^0-9(]{0,12}\(?\s*(\d+(?:\.\d+)?)\s*(?:-|to|,\s|[\u2010\u2013\u2014\u2212])\s*"
                       r"(\d+(?:\.\d+)?)(?![,\d])", re.IGNORECASE)
RATIO_REACH = 80


def reports_null_result(text: str) -> bool:
    """Whether a finding reports no effect (``_NULL_RESULT``) or a ratio whose every interval spans 1,
    and no significant result."""
    text = _NOT_ONLY.sub("", text)
    return not _SIGNIFICANT.search(text) and bool(_NULL_RESULT.search(text) or _ratio_intervals_span_one(text))


def _ratio_intervals_span_one(text: str) -> bool:
    intervals = [interval for ratio in _RATIO.finditer(text)
                 if (interval := _INTERVAL.search(text, ratio.end())) and interval.start() - ratio.end() <= RATIO_REACH]
    return bool(intervals) and all(float(i.group(1)) <= 1.0 <= float(i.group(2)) for i in intervals)
