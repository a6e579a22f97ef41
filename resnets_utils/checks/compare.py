"""Compare the layer graph a student's block built with the reference's, and name the first difference.

The student's graph is every layer call the block made (``observe.recording``), connected to the
output or not; the reference's is the rows of its summary (``architecture.describe``). The two are
aligned by name first, then by place (a layer of the same type fed by the same aligned layers, or
feeding one), so a renamed, misplaced or unconnected layer is still recognised. The first difference
along the flow, from the input to the output, is told in the student's words: which layer, on which
of their lines, and what the reference has instead. Pure functions over plain data, like ``judge``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from resnets_utils.models import naming

INPUT = "input"
STUDENT_INPUT = -1  # the index ``recording`` gives the block's input tensor

TRAINING_NOT_PASSED = (
    "`training` is not passed to BatchNormalization{where}: call it as BatchNormalization(...)(X, training=training)."
)
SAME_PADDING = "padding of the (f,f) convolution must be 'same', so that it keeps the height and width."
CONVOLUTIONAL_STRIDES = (
    "the stride belongs on the first 1x1 convolution and on the shortcut: strides=(s, s) for "
    "'{conv}2a' and '{conv}1', (1, 1) for the others, so both paths shrink the same way{found}."
)
IDENTITY_STRIDES = "every convolution of this block has strides (1, 1), so the output keeps the input's shape{found}."
MAX_CALLS = 1000


@dataclass(frozen=True)
class Difference:
    """The first difference found: its ``kind`` ("missing", "setting", "inputs"...), the reference layer
    (``key``) and the student's call (``index``) it concerns, the message, and the setting if one differs."""

    kind: str
    key: str | None
    index: int | None
    text: str
    setting: str | None = None


class Graphs:
    """The student's calls and the reference's rows of one case, aligned."""

    def __init__(self, name: str, graph: dict, rows: list[dict], case: dict):
        self.name, self.case, self.calls = name, case, graph["calls"]
        if len(self.calls) > MAX_CALLS:  # a block calls a dozen layers; a report with more is not honest
            raise ValueError(f"{len(self.calls)} layer calls")
        self.failed = "error" in graph  # the calls stop where the student's code failed
        self.output = graph.get("output")
        self.variants = {key: graph.get(key) for key in ("training_true", "constant")}
        self.rows = {_key(row["name"], rows): row for row in rows}
        for row in self.rows.values():
            row["_inputs"] = [_key(source, rows) for source in row["inputs"]]
        self.order = [key for key in self.rows if key != INPUT]
        self.consumers = {key: [k for k in self.order if key in self.rows[k]["_inputs"]] for key in self.rows}
        self.conv = naming.conv(case["stage"], case["block"], "")  # the prefix of the block's names
        self.bn = naming.batchnorm(case["stage"], case["block"], "")
        self.match = self._align()
        self.reference_of = {index: key for key, index in self.match.items()}
        # What reaches the output; when the code failed, what reaches the failing call, for the layers
        # that lead to it in the reference (``reaching``).
        self.connected, self.reaching = (self._ancestors(self.output), None) if not self.failed else (None, None)
        failing = len(self.calls) - 1
        if self.failed and self.calls and self.calls[failing]["shape"] is None and failing in self.reference_of:
            self.connected = self._ancestors(failing)
            self.reaching = self._ancestors_in_reference(self.reference_of[failing])

    # -- alignment ---------------------------------------------------------------------------------

    def _align(self) -> dict:
        match, used = {INPUT: STUDENT_INPUT}, {STUDENT_INPUT}

        def take(key, index):
            match[key] = index
            used.add(index)

        for key in self.order:  # by name, a call of the same type first
            if "#" not in key:
                named = [i for i, call in enumerate(self.calls) if call["name"] == key and i not in used]
                named.sort(key=lambda i: self.calls[i]["type"] != self.rows[key]["type"])
                if named:
                    take(key, named[0])
        changed = True
        while changed:  # by place: fed by the aligned inputs, or feeding an aligned layer
            changed = False
            for key in [k for k in self.order if k not in match]:
                row = self.rows[key]
                free = [i for i, c in enumerate(self.calls) if i not in used and c["type"] == row["type"]]
                if all(source in match for source in row["_inputs"]):
                    want = sorted(match[source] for source in row["_inputs"])
                    fed = [i for i in free if sorted(x for x in self.calls[i]["inputs"] if x is not None) == want]
                    if fed:
                        take(key, fed[0])
                        changed = True
                        continue
                feeding = [
                    i for i in free for c in self.consumers[key] if c in match and i in self.calls[match[c]]["inputs"]
                ]
                if feeding:
                    take(key, feeding[0])
                    changed = True
        for kind in {self.rows[k]["type"] for k in self.order}:  # what is left, in order, when the counts agree
            left = [k for k in self.order if k not in match and self.rows[k]["type"] == kind]
            free = [
                i
                for i, c in enumerate(self.calls)
                if i not in used and c["type"] == kind and (c["name"] is None or c["name"] not in self.rows)
            ]
            if left and len(left) == len(free):
                for key, index in zip(left, free, strict=True):
                    take(key, index)
        return match

    def _ancestors(self, index) -> set:
        seen, todo = set(), [index]
        while todo:
            current = todo.pop()
            if current is None or current in seen or current == STUDENT_INPUT:
                continue
            seen.add(current)
            todo.extend(self.calls[current]["inputs"])
        return seen

    # -- words -------------------------------------------------------------------------------------

    def says(self, key) -> str:
        """A reference layer as the student knows it: 'res1a_branch2b', "the ReLU after 'bn1a_branch2a'"."""
        if key == INPUT:
            return "the block's input (X_shortcut)"
        row = self.rows[key]
        if "#" not in key:
            return f"'{key}'"
        if row["type"] == "Add":
            return "the addition"
        source = row["_inputs"][0] if row["_inputs"] else INPUT
        return f"the {_word(row)} after {self.says(source)}"

    def spec_says(self, key) -> str:
        """A reference layer as the spec builds it, with no case's values: "the Conv2D conv_name_base + '2b'"."""
        if key == INPUT:
            return "the block's input"
        row = self.rows[key]
        if row["type"] == "Add":
            return "the addition"
        for base, prefix in (("conv_name_base", self.conv), ("bn_name_base", self.bn)):
            if key.startswith(prefix):
                return f"the {row['type']} {base} + '{key[len(prefix) :]}'"
        source = row["_inputs"][0] if row["_inputs"] else INPUT
        return f"the {_word(row)} after {self.spec_says(source)}"

    def code(self, key) -> str:
        """How the spec builds a reference layer: ``BatchNormalization(axis=3, name=bn_name_base + '2c')``."""
        row = self.rows[key]
        if row["type"] == "Add":
            return "Add()([X, X_shortcut])"
        if row["type"] == "Activation":
            return "Activation('relu')"
        for base, prefix in (("conv_name_base", self.conv), ("bn_name_base", self.bn)):
            if key.startswith(prefix):
                axis = "axis=3, " if row["type"] == "BatchNormalization" else ""
                return f"{row['type']}({axis}name={base} + '{key[len(prefix) :]}')"
        return row["type"]

    def at(self, index) -> str:
        """`` on line 27 (`X = Activation('relu')(X)`)``: where the student built a call; "" if unknown."""
        line = self.calls[index].get("line") if index is not None and index >= 0 else None
        if not line:
            return ""
        text = line[1] if len(line[1]) <= 72 else line[1][:69].rstrip() + "..."
        return f" on line {line[0]} (`{text}`)"

    def student(self, index) -> str:
        """A student's call in its own terms: "the ReLU on line 27 (`...`)"."""
        if index == STUDENT_INPUT:
            return "the block's input (X_shortcut)"
        call = self.calls[index]
        name = f" '{call['name']}'" if call["name"] else ""
        return f"the {_word(call)}{name}{self.at(index)}"

    def called(self, index) -> str:
        """A student's call by its reference place and its line: "'bn1a_branch2b' on line 28 (`...`)"."""
        key = self.reference_of.get(index)
        return f"{self.says(key)}{self.at(index)}" if key is not None else self.student(index)

    def source(self, index) -> str:
        """The tensor a call takes, said by its reference place when it has one."""
        key = self.reference_of.get(index)
        return self.says(key) if key is not None else self.student(index)

    # -- differences -------------------------------------------------------------------------------

    def first_difference(self) -> Difference | None:
        if any(None in call["inputs"] for call in self.calls) or (self.output is None and not self.failed):
            return None  # a tensor made by an operation, not a layer (`X + Y`): told when the model is built
        last = self.order[-1]
        if not self.failed and (text := self._returned()):
            return Difference("returns", last, self.output, text)
        for key in self.order:
            if found := self._difference_at(key):
                return found
        if not self.failed:
            for index, call in enumerate(self.calls):
                if index not in self.reference_of and index not in self.connected and call["layer"] == index:
                    text = (
                        f"{self.student(index)} builds a layer whose output nothing uses, and the reference has "
                        "no such layer: remove it."
                    )
                    return Difference("extra", None, index, text)
        return None

    def _returned(self) -> str | None:
        """The block returns another tensor than its last layer's, which is built in its place."""
        last = self.order[-1]
        index = self.match.get(last)
        if index is None or index == self.output or self._inputs(last, index):
            return None  # the last layer is where it belongs, or is misplaced: the flow tells which
        if self.output not in self.reference_of and index in self.calls[self.output]["inputs"]:
            return f"{self.student(self.output)} is a layer too many: the block ends with {self.called(index)}."
        return (
            f"the block returns {self.source(self.output)}, not {self.called(index)}: "
            "assign each layer's result to X and return X."
        )

    def _difference_at(self, key) -> Difference | None:
        index = self.match.get(key)
        if index is None:  # missing; when the code failed, only if a later layer was built
            reached = not self.failed or any(k in self.match for k in self._descendants(key))
            return Difference("missing", key, None, self._missing(key)) if reached else None
        checks = [("twice", self._twice), ("name", self._type_or_name), ("setting", self._setting)]
        checks.append(("inputs", self._inputs))
        finished = self.calls[index]["shape"] is not None  # else the call that failed: the error follows
        reaches = self.reaching is None or key in self.reaching
        if finished and self.connected is not None and index not in self.connected and reaches:
            checks.append(("unconnected", self._unconnected))
        if finished:
            checks.append(("variant", self._variants))
        for kind, check in checks:
            if text := check(key, index):
                setting = self._setting_key(key, index) if kind == "setting" else None
                return Difference(kind, key, index, text, setting)
        return None

    def _missing(self, key) -> str:
        inputs = self.rows[key]["_inputs"]
        sources = " and ".join(self.says(s) for s in inputs) or "the input"
        consumers = " and ".join(self.says(c) for c in self.consumers[key]) or "the block's output"
        fed = sorted(self.match.get(s, -2) for s in inputs)
        instead = [  # a layer of another type in its place
            i for i, call in enumerate(self.calls) if i not in self.reference_of and sorted(call["inputs"]) == fed
        ]
        if instead:
            return (
                f"{self.student(instead[0])} stands where the reference applies {self.code(key)} to {sources}: "
                f"{self.says(key)} is missing."
            )
        return (
            f"{self.says(key)} is missing: the reference applies {self.code(key)} to {sources} "
            f"and passes the result to {consumers}."
        )

    def _twice(self, key, index) -> str | None:
        if "#" in key:
            return None
        others = [i for i, call in enumerate(self.calls) if call["name"] == key and i != index]
        if not others:
            return None
        other = others[0]
        if self.calls[other]["layer"] == self.calls[index]["layer"]:
            return (
                f"'{key}' is called twice,{self.at(index)} and again{self.at(other)}: the same layer object "
                "shares its weights; build a new layer for each step."
            )
        return (
            f"'{key}' is built twice,{self.at(index)} and again{self.at(other)}: a layer name can be used once; "
            "the second one is a layer too many."
        )

    def _type_or_name(self, key, index) -> str | None:
        row, call = self.rows[key], self.calls[index]
        if call["type"] != row["type"]:
            return f"{self.says(key)} must be a {row['type']}, but{self.at(index)} it is a {call['type']}."
        if "#" not in key and call["name"] != key:
            named = f"is named '{call['name']}'" if call["name"] else "has no name"
            return f"the {_word(call)}{self.at(index)} {named} where the spec names it '{key}': {self.code(key)}."
        return None

    def _setting_key(self, key, index) -> str | None:
        """The first setting of the call that differs from the reference layer's, after ``_normal``."""
        want, got = _normal(self.rows[key]), _normal(self.calls[index]["settings"])
        return next((s for s in SETTING_ORDER if (s in want or s in got) and want.get(s) != got.get(s)), None)

    def _setting(self, key, index) -> str | None:
        setting = self._setting_key(key, index)
        if setting is None:
            return None
        got, want = _normal(self.calls[index]["settings"]).get(setting), _normal(self.rows[key]).get(setting)
        return f"{self.says(key)}{self.at(index)} {self._advice(key, setting, got, want)}"

    def _advice(self, key, setting, got, want) -> str:
        row = self.rows[key]
        kind = row["type"]
        if kind == "Conv2D" and setting == "filters":
            return self._filters_advice(key, got, want)
        if kind == "Conv2D" and setting == "kernel_size":
            if "f" in self.case and want == [self.case["f"]] * 2 and self.case["f"] != 1:
                return f"has a {_pair(got)} window where it needs an (f, f) window: kernel_size=(f, f)."
            if want == [1, 1]:
                return f"has a {_pair(got)} window where it is a 1x1 convolution: kernel_size=(1, 1)."
            return f"has a {_pair(got)} window where it needs a {_pair(want)} window: kernel_size={_pair(want)}."
        if kind == "Conv2D" and setting == "strides":
            return f"has strides {_pair(got)}: " + self._strides_rule()
        if kind == "Conv2D" and setting == "padding":
            if "f" in self.case:
                return f"has padding {got!r}: the {SAME_PADDING}"
            window = "x".join(map(str, _normal(row).get("kernel_size", [])))
            return (
                f"has padding {got!r}: the padding of the {window} convolutions must be {want!r}, "
                "so that they keep the height and width."
            )
        if kind == "Conv2D" and setting == "kernel_initializer":
            return (
                f"has kernel_initializer {got} where the spec gives initializer(seed=0): "
                "write kernel_initializer=initializer(seed=0), calling the `initializer` argument."
            )
        if kind == "Conv2D" and setting == "activation":
            return (
                f"has activation {got!r}: the convolutions have no activation of their own; ReLU is a layer of "
                "its own after BatchNormalization."
            )
        if kind == "BatchNormalization" and setting == "axis":
            return f"is not normalising the channels axis (axis={got}): use BatchNormalization(axis=3, ...)."
        if kind == "BatchNormalization":
            return (
                f"has {setting} {got} where the spec's BatchNormalization keeps Keras' default {want}: "
                f"leave {setting} out."
            )
        if kind == "Activation" and setting == "activation":
            return f"is Activation({got!r}) where the block uses ReLU: Activation('relu')."
        return f"has {setting} {got} where {want} is expected."

    def _convolutions(self) -> list[str]:
        return [key for key in self.order if self.rows[key]["type"] == "Conv2D"]

    def _spelled(self, value) -> str | None:
        """How the block's ``filters`` argument spells a number of filters: 'F2' (a list), 'filters' (a number)."""
        filters = self.case.get("filters")
        if isinstance(filters, list):
            found = [f"F{i + 1}" for i, number in enumerate(filters) if number == value]
            return found[0] if len(found) == 1 else None
        return "filters" if filters == value else None

    def _filters_advice(self, key, got, want) -> str:
        which = self._spelled(want)
        if which is None:
            return f"should have {want} filters, found {got}."
        spelled = {k: self._spelled(_normal(self.rows[k]).get("filters")) for k in self._convolutions()}
        if set(spelled.values()) == {which} and which == "filters":
            return f"should have filters = {want} filters, found {got} (every convolution of the block has `filters`)."
        main = [k for k in spelled if k[len(self.conv) :].startswith("2")]
        names = [spelled[k] for k in main]
        rule = f"filters = [{', '.join(names)}] for {', '.join(repr(k[len(self.conv) :]) for k in main)}"
        shortcut = [k for k in spelled if k not in main]
        if shortcut and all(spelled[k] for k in shortcut):
            rule += f"; the shortcut's convolution has {spelled[shortcut[0]]}"
        return f"should have {which} = {want} filters, found {got} ({rule})."

    def _strides_rule(self) -> str:
        """Where the reference puts the stride, from its layers: the rule the strides advice states."""
        strided = [k for k in self._convolutions() if _normal(self.rows[k]).get("strides") not in (None, [1, 1])]
        if not strided:
            return IDENTITY_STRIDES.format(found="")
        first = _normal(self.rows[strided[0]]).get("kernel_size", [1, 1])
        window = f"{first[0]}x{first[1]}"
        names = " and ".join(f"'{k}'" for k in strided)
        return (
            f"the stride belongs on the first {window} convolution"
            + (" and on the shortcut" if any(not k[len(self.conv) :].startswith("2") for k in strided) else "")
            + f": strides=(s, s) for {names}, (1, 1) for the others, so both paths shrink the same way."
        )

    def _order_rule(self, kinds: set) -> str | None:
        """The reference's order of steps, for a later step applied first (Conv2D, BatchNormalization, ReLU...)."""
        if "Add" not in kinds:
            steps = []
            for k in self.order:
                word = _word(self.rows[k])
                if self.rows[k]["type"] != "Add" and word not in steps:
                    steps.append(word)
            return "in each component the order is " + ", then ".join(steps)
        addition = next(k for k in self.order if self.rows[k]["type"] == "Add")
        after = [_word(self.rows[k]) for k in self.consumers[addition]]
        ends = sorted({_word(self.rows[k]) for k in self.rows[addition]["_inputs"] if k != INPUT})
        path = f"each path ends with its {ends[0]}" if len(ends) == 1 else "each path ends as the reference's does"
        if "Activation" in kinds:
            if after:
                return f"add the shortcut to the main path first, then apply {after[0]} to the sum"
            return "the block ends with the addition: nothing follows it"
        return f"{path}; then the addition" + (f", then {after[0]}" if after else "")

    def _inputs(self, key, index) -> str | None:
        row, call = self.rows[key], self.calls[index]
        got = Counter(self.reference_of.get(i, ("extra", i)) for i in call["inputs"])
        want = Counter(row["_inputs"])
        if got == want:
            return None
        wrong, missing = list((got - want).elements()), list((want - got).elements())
        instead = " and ".join(self.says(m) for m in missing)
        for source in wrong:
            if isinstance(source, tuple):  # a call the reference does not have
                extra = source[1]
                return (
                    f"{self.student(extra)} is a layer too many: the reference passes {instead or 'its input'} "
                    f"straight to {self.says(key)}."
                )
            if source in self._descendants(key):  # a later step applied first
                advice = self._order_rule({row["type"], self.rows[source]["type"]})
                return (
                    f"{self.student(self.match[source])} is applied before {self.says(key)}{self.at(index)}, "
                    f"which the reference applies first: {advice}."
                )
        takes = " and ".join(self.source(i) for i in call["inputs"]) or "nothing"
        should = " and ".join(self.says(s) for s in row["_inputs"])
        return f"{self.says(key)}{self.at(index)} takes {takes} where the reference gives it {should}."

    def _ancestors_in_reference(self, key) -> set:
        return self._reached(key, lambda k: self.rows[k]["_inputs"])

    def _descendants(self, key) -> set:
        return self._reached(key, lambda k: self.consumers[k])

    @staticmethod
    def _reached(key, next_of) -> set:
        """The reference layers reached from ``key`` by following ``next_of`` (inputs or consumers)."""
        seen, todo = set(), list(next_of(key))
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(next_of(current))
        return seen

    def _unconnected(self, key, index) -> str:
        end = index
        while True:  # follow the unused chain to its last layer
            after = [
                i for i in range(end + 1, len(self.calls)) if end in self.calls[i]["inputs"] and i not in self.connected
            ]
            if not after:
                break
            end = after[0]
        ends = "" if end == index else f" (nor does the path it starts, which ends at {self.source(end)})"
        should = [c for c in self.consumers.get(self.reference_of.get(end), []) if c in self.match]
        following = end + 1 if end + 1 < len(self.calls) else None
        reasons = []
        if should:
            consumer = self.match[should[0]]
            takes = " and ".join(self.source(i) for i in self.calls[consumer]["inputs"])
            reasons.append(f"{self.says(should[0])}{self.at(consumer)}, which should take it, takes {takes}")
        if following is not None and (not should or following != self.match[should[0]]):
            takes = " and ".join(self.source(i) for i in self.calls[following]["inputs"])
            reasons.append(f"the next layer, {self.called(following)}, takes {takes}")
        why = "; ".join(reasons) or "nothing after it uses its result"
        unused = f"{self.says(key)}{self.at(index)} is built, but its output never reaches the block's output"
        return f"{unused}{ends}: {why}."

    def _variants(self, key, index) -> str | None:
        row, call = self.rows[key], self.calls[index]
        training = self.variants["training_true"]
        if row["type"] == "BatchNormalization":
            if call.get("training") is not None:
                where = f" ({self.says(key)}{self.at(index)} is called with training={call['training']})"
                return TRAINING_NOT_PASSED.format(where=where)
            if isinstance(training, list) and len(training) == len(self.calls) and training[index] is not True:
                return TRAINING_NOT_PASSED.format(where=f" ({self.says(key)}{self.at(index)})")
        constant = self.variants["constant"]
        if row["type"] == "Conv2D" and isinstance(constant, list) and len(constant) == len(self.calls):
            if constant[index] != "Constant":
                return (
                    f"{self.says(key)}{self.at(index)} ignores the `initializer` argument (it keeps "
                    f"{constant[index]} whatever it is given): write kernel_initializer=initializer(seed=0)."
                )
        return None


# The settings compared, in the order a difference is reported.
SETTING_ORDER = (
    "kernel_size",
    "strides",
    "padding",
    "filters",
    "axis",
    "activation",
    "epsilon",
    "momentum",
    "pool_size",
    "units",
    "kernel_initializer",
)


def first_difference(name: str, graph: dict, rows: list[dict], case: dict) -> Difference | None:
    """The first difference between the student's ``graph`` and the reference ``rows``; None if none."""
    return Graphs(name, graph, [dict(row) for row in rows], case).first_difference()


def _key(name: str, rows: list[dict]):
    row = next(row for row in rows if row["name"] == name)
    return INPUT if row["type"] == "InputLayer" else name


def _word(layer: dict) -> str:
    """What the course calls a layer of this type: ReLU, addition, Conv2D..."""
    settings = layer.get("settings", layer)
    if layer["type"] == "Activation" and settings.get("activation") == "relu":
        return "ReLU"
    return {"Add": "addition"}.get(layer["type"], layer["type"])


def _pair(value) -> str:
    return f"({value[0]}, {value[1]})" if isinstance(value, list) and len(value) == 2 else str(value)


def _normal(settings: dict) -> dict:
    """The settings with equivalent spellings made equal: axis -1 is 3 on images; a 1x1 window's padding
    changes nothing (there is nothing to pad)."""
    found = {key: settings[key] for key in SETTING_ORDER if key in settings}
    if found.get("axis") in (-1, [-1], [3]):
        found["axis"] = 3
    if found.get("kernel_size") == [1, 1]:
        found.pop("padding", None)
    return found


# What a hidden case's difference may say about a setting: the spec's rule, never a value seen.
SETTING_RULES = {
    ("Conv2D", "filters"): "filters = [F1, F2, F3] for '2a', '2b', '2c'; the shortcut's convolution has F3",
    ("Conv2D", "kernel_size"): "kernel_size=(f, f) for the middle convolution, (1, 1) for the others",
    ("Conv2D", "padding"): SAME_PADDING.rstrip("."),
    ("Conv2D", "kernel_initializer"): "kernel_initializer=initializer(seed=0)",
    ("Conv2D", "activation"): "the convolutions have no activation of their own",
    ("BatchNormalization", "axis"): "BatchNormalization(axis=3, ...)",
}


def hidden_words(name: str, difference: Difference, rows: list[dict], case: dict) -> str:
    """``difference`` in the reference's words only: the layer as the spec builds it (conv_name_base +
    '2b', not a name the student's code made), the kind of difference and the spec's rule."""
    spec = Graphs(name, {"calls": []}, [dict(row) for row in rows], case)
    kind, key = difference.kind, difference.key
    layer = spec.spec_says(key) if key is not None else "a layer"
    if kind == "setting":
        row = spec.rows[key]
        if (row["type"], difference.setting) == ("Conv2D", "strides") and name == "convolutional_block":
            rule = "strides=(s, s) for conv_name_base + '2a' and conv_name_base + '1', (1, 1) for the others"
        elif (row["type"], difference.setting) == ("Conv2D", "strides"):
            rule = "every convolution of the identity block has strides (1, 1)"
        else:
            rule = SETTING_RULES.get((row["type"], difference.setting), "see the specification")
        return f"the setting {difference.setting} of {layer} differs from the spec's: {rule.rstrip('.')}"
    said = {
        "missing": f"{layer} is missing",
        "twice": f"{layer} is built more than once",
        "name": f"{layer} is not built with the type and name the spec gives it",
        "inputs": f"{layer} does not take the tensor the spec gives it",
        "unconnected": f"{layer} is built, but its output does not reach the block's output",
        "returns": "the block does not return the output of its last ReLU",
        "extra": "the block builds a layer the reference does not have",
    }
    if kind in said:
        return said[kind]
    if spec.rows.get(key, {}).get("type") == "BatchNormalization":
        return TRAINING_NOT_PASSED.format(where="").rstrip(".")
    return f"{layer} ignores the `initializer` argument: kernel_initializer=initializer(seed=0)"
