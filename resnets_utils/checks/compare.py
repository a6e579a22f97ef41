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

from resnets_utils.language import N_, say, unstopped
from resnets_utils.models import naming

INPUT = "input"
STUDENT_INPUT = -1  # the index ``recording`` gives the block's input tensor

TRAINING_NOT_PASSED = N_(
    "`training` is not passed to BatchNormalization{where}: call it as BatchNormalization(...)(X, training=training)."
)
SAME_PADDING = N_("padding of the (f,f) convolution must be 'same', so that it keeps the height and width.")
CONVOLUTIONAL_STRIDES = N_(
    "the stride belongs on the first 1x1 convolution and on the shortcut: strides=(s, s) for "
    "'{conv}2a' and '{conv}1', (1, 1) for the others, so both paths shrink the same way{found}."
)
IDENTITY_STRIDES = N_(
    "every convolution of this block has strides (1, 1), so the output keeps the input's shape{found}."
)
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
            return say("the block's input (X_shortcut)")
        row = self.rows[key]
        if "#" not in key:
            return f"'{key}'"
        if row["type"] == "Add":
            return say("the addition")
        source = row["_inputs"][0] if row["_inputs"] else INPUT
        return say("the {kind} after {source}", kind=_word(row), source=self.says(source))

    def spec_says(self, key) -> str:
        """A reference layer as the spec builds it, with no case's values: "the Conv2D conv_name_base + '2b'"."""
        if key == INPUT:
            return say("the block's input")
        row = self.rows[key]
        if row["type"] == "Add":
            return say("the addition")
        for base, prefix in (("conv_name_base", self.conv), ("bn_name_base", self.bn)):
            if key.startswith(prefix):
                return say("the {kind} {base} + '{part}'", kind=row["type"], base=base, part=key[len(prefix) :])
        source = row["_inputs"][0] if row["_inputs"] else INPUT
        return say("the {kind} after {source}", kind=_word(row), source=self.spec_says(source))

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
        return say(" on line {number} (`{code}`)", number=line[0], code=text)

    def student(self, index) -> str:
        """A student's call in its own terms: "the ReLU on line 27 (`...`)"."""
        if index == STUDENT_INPUT:
            return say("the block's input (X_shortcut)")
        call = self.calls[index]
        name = f" '{call['name']}'" if call["name"] else ""
        return say("the {kind}{name}{at}", kind=_word(call), name=name, at=self.at(index))

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
                    text = say(
                        "{call} builds a layer whose output nothing uses, and the reference has "
                        "no such layer: remove it.",
                        call=self.student(index),
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
            return say(
                "{call} is a layer too many: the block ends with {last}.",
                call=self.student(self.output),
                last=self.called(index),
            )
        return say(
            "the block returns {returned}, not {last}: assign each layer's result to X and return X.",
            returned=self.source(self.output),
            last=self.called(index),
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
        sources = say(" and ").join(self.says(s) for s in inputs) or say("the input")
        consumers = say(" and ").join(self.says(c) for c in self.consumers[key]) or say("the block's output")
        fed = sorted(self.match.get(s, -2) for s in inputs)
        instead = [  # a layer of another type in its place
            i for i, call in enumerate(self.calls) if i not in self.reference_of and sorted(call["inputs"]) == fed
        ]
        if instead:
            return say(
                "{call} stands where the reference applies {code} to {sources}: {layer} is missing.",
                call=self.student(instead[0]),
                code=self.code(key),
                sources=sources,
                layer=self.says(key),
            )
        return say(
            "{layer} is missing: the reference applies {code} to {sources} and passes the result to {consumers}.",
            layer=self.says(key),
            code=self.code(key),
            sources=sources,
            consumers=consumers,
        )

    def _twice(self, key, index) -> str | None:
        if "#" in key:
            return None
        others = [i for i, call in enumerate(self.calls) if call["name"] == key and i != index]
        if not others:
            return None
        other = others[0]
        if self.calls[other]["layer"] == self.calls[index]["layer"]:
            return say(
                "'{name}' is called twice,{at} and again{again}: the same layer object "
                "shares its weights; build a new layer for each step.",
                name=key,
                at=self.at(index),
                again=self.at(other),
            )
        return say(
            "'{name}' is built twice,{at} and again{again}: a layer name can be used once; "
            "the second one is a layer too many.",
            name=key,
            at=self.at(index),
            again=self.at(other),
        )

    def _type_or_name(self, key, index) -> str | None:
        row, call = self.rows[key], self.calls[index]
        if call["type"] != row["type"]:
            return say(
                "{layer} must be a {kind}, but{at} it is a {found}.",
                layer=self.says(key),
                kind=row["type"],
                at=self.at(index),
                found=call["type"],
            )
        if "#" not in key and call["name"] != key:
            fields = {"kind": _word(call), "at": self.at(index), "key": key, "code": self.code(key)}
            if call["name"]:
                return say(
                    "the {kind}{at} is named '{name}' where the spec names it '{key}': {code}.",
                    name=call["name"],
                    **fields,
                )
            return say("the {kind}{at} has no name where the spec names it '{key}': {code}.", **fields)
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
        return self._advice(key, index, setting, got, want)

    def _advice(self, key, index, setting, got, want) -> str:
        """The sentence on a setting of the call ``index`` that differs from the reference layer ``key``'s."""
        row = self.rows[key]
        kind = row["type"]
        layer = {"layer": self.says(key), "at": self.at(index)}  # the sentence's subject
        if kind == "Conv2D" and setting == "filters":
            return self._filters_advice(layer, got, want)
        if kind == "Conv2D" and setting == "kernel_size":
            if "f" in self.case and want == [self.case["f"]] * 2 and self.case["f"] != 1:
                return say(
                    "{layer}{at} has a {got} window where it needs an (f, f) window: kernel_size=(f, f).",
                    got=_pair(got),
                    **layer,
                )
            if want == [1, 1]:
                return say(
                    "{layer}{at} has a {got} window where it is a 1x1 convolution: kernel_size=(1, 1).",
                    got=_pair(got),
                    **layer,
                )
            return say(
                "{layer}{at} has a {got} window where it needs a {want} window: kernel_size={want}.",
                got=_pair(got),
                want=_pair(want),
                **layer,
            )
        if kind == "Conv2D" and setting == "strides":
            return say("{layer}{at} has strides {got}: {rule}", got=_pair(got), rule=self._strides_rule(), **layer)
        if kind == "Conv2D" and setting == "padding":
            if "f" in self.case:
                return say("{layer}{at} has padding {got!r}: the {rule}", got=got, rule=say(SAME_PADDING), **layer)
            window = "x".join(map(str, _normal(row).get("kernel_size", [])))
            return say(
                "{layer}{at} has padding {got!r}: the padding of the {window} convolutions must be {want!r}, "
                "so that they keep the height and width.",
                got=got,
                window=window,
                want=want,
                **layer,
            )
        if kind == "Conv2D" and setting == "kernel_initializer":
            return say(
                "{layer}{at} has kernel_initializer {got} where the spec gives initializer(seed=0): "
                "write kernel_initializer=initializer(seed=0), calling the `initializer` argument.",
                got=got,
                **layer,
            )
        if kind == "Conv2D" and setting == "activation":
            return say(
                "{layer}{at} has activation {got!r}: the convolutions have no activation of their own; "
                "ReLU is a layer of its own after BatchNormalization.",
                got=got,
                **layer,
            )
        if kind == "BatchNormalization" and setting == "axis":
            return say(
                "{layer}{at} is not normalising the channels axis (axis={got}): use BatchNormalization(axis=3, ...).",
                got=got,
                **layer,
            )
        if kind == "BatchNormalization":
            return say(
                "{layer}{at} has {setting} {got} where the spec's BatchNormalization keeps Keras' default {want}: "
                "leave {setting} out.",
                setting=setting,
                got=got,
                want=want,
                **layer,
            )
        if kind == "Activation" and setting == "activation":
            return say(
                "{layer}{at} is Activation({got!r}) where the block uses ReLU: Activation('relu').", got=got, **layer
            )
        return say(
            "{layer}{at} has {setting} {got} where {want} is expected.", setting=setting, got=got, want=want, **layer
        )

    def _convolutions(self) -> list[str]:
        return [key for key in self.order if self.rows[key]["type"] == "Conv2D"]

    def _spelled(self, value) -> str | None:
        """How the block's ``filters`` argument spells a number of filters: 'F2' (a list), 'filters' (a number)."""
        filters = self.case.get("filters")
        if isinstance(filters, list):
            found = [f"F{i + 1}" for i, number in enumerate(filters) if number == value]
            return found[0] if len(found) == 1 else None
        return "filters" if filters == value else None

    def _filters_advice(self, layer: dict, got, want) -> str:
        """The sentence on a wrong number of filters; ``layer``: the fields ``layer`` and ``at`` of its subject."""
        which = self._spelled(want)
        if which is None:
            return say("{layer}{at} should have {want} filters, found {got}.", want=want, got=got, **layer)
        spelled = {k: self._spelled(_normal(self.rows[k]).get("filters")) for k in self._convolutions()}
        if set(spelled.values()) == {which} and which == "filters":
            return say(
                "{layer}{at} should have filters = {want} filters, found {got} "
                "(every convolution of the block has `filters`).",
                want=want,
                got=got,
                **layer,
            )
        main = [k for k in spelled if k[len(self.conv) :].startswith("2")]
        names = ", ".join(spelled[k] for k in main)
        parts = ", ".join(repr(k[len(self.conv) :]) for k in main)
        shortcut = [k for k in spelled if k not in main]
        if shortcut and all(spelled[k] for k in shortcut):
            rule = say(
                "filters = [{names}] for {parts}; the shortcut's convolution has {shortcut}",
                names=names,
                parts=parts,
                shortcut=spelled[shortcut[0]],
            )
        else:
            rule = say("filters = [{names}] for {parts}", names=names, parts=parts)
        return say(
            "{layer}{at} should have {which} = {want} filters, found {got} ({rule}).",
            which=which,
            want=want,
            got=got,
            rule=rule,
            **layer,
        )

    def _strides_rule(self) -> str:
        """Where the reference puts the stride, from its layers: the rule the strides advice states."""
        strided = [k for k in self._convolutions() if _normal(self.rows[k]).get("strides") not in (None, [1, 1])]
        if not strided:
            return say(IDENTITY_STRIDES, found="")
        first = _normal(self.rows[strided[0]]).get("kernel_size", [1, 1])
        window = f"{first[0]}x{first[1]}"
        names = say(" and ").join(f"'{k}'" for k in strided)
        if any(not k[len(self.conv) :].startswith("2") for k in strided):
            return say(
                "the stride belongs on the first {window} convolution and on the shortcut: strides=(s, s) for "
                "{names}, (1, 1) for the others, so both paths shrink the same way.",
                window=window,
                names=names,
            )
        return say(
            "the stride belongs on the first {window} convolution: strides=(s, s) for {names}, (1, 1) for the "
            "others, so both paths shrink the same way.",
            window=window,
            names=names,
        )

    def _order_rule(self, kinds: set) -> str | None:
        """The reference's order of steps, for a later step applied first (Conv2D, BatchNormalization, ReLU...)."""
        if "Add" not in kinds:
            steps = []
            for k in self.order:
                word = _word(self.rows[k])
                if self.rows[k]["type"] != "Add" and word not in steps:
                    steps.append(word)
            return say("in each component the order is {steps}", steps=say(", then ").join(steps))
        addition = next(k for k in self.order if self.rows[k]["type"] == "Add")
        after = [_word(self.rows[k]) for k in self.consumers[addition]]
        ends = sorted({_word(self.rows[k]) for k in self.rows[addition]["_inputs"] if k != INPUT})
        if "Activation" in kinds:
            if after:
                return say("add the shortcut to the main path first, then apply {kind} to the sum", kind=after[0])
            return say("the block ends with the addition: nothing follows it")
        if len(ends) == 1:
            path = say("each path ends with its {kind}", kind=ends[0])
        else:
            path = say("each path ends as the reference's does")
        if after:
            return say("{path}; then the addition, then {kind}", path=path, kind=after[0])
        return say("{path}; then the addition", path=path)

    def _inputs(self, key, index) -> str | None:
        row, call = self.rows[key], self.calls[index]
        got = Counter(self.reference_of.get(i, ("extra", i)) for i in call["inputs"])
        want = Counter(row["_inputs"])
        if got == want:
            return None
        wrong, missing = list((got - want).elements()), list((want - got).elements())
        instead = say(" and ").join(self.says(m) for m in missing)
        for source in wrong:
            if isinstance(source, tuple):  # a call the reference does not have
                extra = source[1]
                return say(
                    "{call} is a layer too many: the reference passes {sources} straight to {layer}.",
                    call=self.student(extra),
                    sources=instead or say("its input"),
                    layer=self.says(key),
                )
            if source in self._descendants(key):  # a later step applied first
                advice = self._order_rule({row["type"], self.rows[source]["type"]})
                return say(
                    "{call} is applied before {layer}{at}, which the reference applies first: {advice}.",
                    call=self.student(self.match[source]),
                    layer=self.says(key),
                    at=self.at(index),
                    advice=advice,
                )
        takes = say(" and ").join(self.source(i) for i in call["inputs"]) or say("nothing")
        should = say(" and ").join(self.says(s) for s in row["_inputs"])
        return say(
            "{layer}{at} takes {takes} where the reference gives it {should}.",
            layer=self.says(key),
            at=self.at(index),
            takes=takes,
            should=should,
        )

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
        should = [c for c in self.consumers.get(self.reference_of.get(end), []) if c in self.match]
        following = end + 1 if end + 1 < len(self.calls) else None
        reasons = []
        if should:
            consumer = self.match[should[0]]
            takes = say(" and ").join(self.source(i) for i in self.calls[consumer]["inputs"])
            reasons.append(
                say(
                    "{layer}{at}, which should take it, takes {takes}",
                    layer=self.says(should[0]),
                    at=self.at(consumer),
                    takes=takes,
                )
            )
        if following is not None and (not should or following != self.match[should[0]]):
            takes = say(" and ").join(self.source(i) for i in self.calls[following]["inputs"])
            reasons.append(say("the next layer, {call}, takes {takes}", call=self.called(following), takes=takes))
        why = say("; ").join(reasons) or say("nothing after it uses its result")
        if end == index:
            return say(
                "{layer}{at} is built, but its output never reaches the block's output: {why}.",
                layer=self.says(key),
                at=self.at(index),
                why=why,
            )
        return say(
            "{layer}{at} is built, but its output never reaches the block's output (nor does the path it starts, "
            "which ends at {end}): {why}.",
            layer=self.says(key),
            at=self.at(index),
            end=self.source(end),
            why=why,
        )

    def _variants(self, key, index) -> str | None:
        row, call = self.rows[key], self.calls[index]
        training = self.variants["training_true"]
        if row["type"] == "BatchNormalization":
            if call.get("training") is not None:
                where = say(
                    " ({layer}{at} is called with training={training})",
                    layer=self.says(key),
                    at=self.at(index),
                    training=call["training"],
                )
                return say(TRAINING_NOT_PASSED, where=where)
            if isinstance(training, list) and len(training) == len(self.calls) and training[index] is not True:
                where = say(" ({layer}{at})", layer=self.says(key), at=self.at(index))
                return say(TRAINING_NOT_PASSED, where=where)
        constant = self.variants["constant"]
        if row["type"] == "Conv2D" and isinstance(constant, list) and len(constant) == len(self.calls):
            if constant[index] != "Constant":
                return say(
                    "{layer}{at} ignores the `initializer` argument (it keeps {initializer} whatever it is given): "
                    "write kernel_initializer=initializer(seed=0).",
                    layer=self.says(key),
                    at=self.at(index),
                    initializer=constant[index],
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
    if layer["type"] == "Add":
        return say("addition")
    return layer["type"]  # a Keras class name, said as it is


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


# What a hidden case's difference may say about a setting: the spec's rule, never a value seen. Said
# (``say``) when used; ``hidden_words`` drops a final full stop (SAME_PADDING's).
SETTING_RULES = {
    ("Conv2D", "filters"): N_("filters = [F1, F2, F3] for '2a', '2b', '2c'; the shortcut's convolution has F3"),
    ("Conv2D", "kernel_size"): N_("kernel_size=(f, f) for the middle convolution, (1, 1) for the others"),
    ("Conv2D", "padding"): SAME_PADDING,
    ("Conv2D", "kernel_initializer"): N_("kernel_initializer=initializer(seed=0)"),  # code: the same in every language
    ("Conv2D", "activation"): N_("the convolutions have no activation of their own"),
    ("BatchNormalization", "axis"): N_("BatchNormalization(axis=3, ...)"),  # code
}


def hidden_words(name: str, difference: Difference, rows: list[dict], case: dict) -> str:
    """``difference`` in the reference's words only: the layer as the spec builds it (conv_name_base +
    '2b', not a name the student's code made), the kind of difference and the spec's rule."""
    spec = Graphs(name, {"calls": []}, [dict(row) for row in rows], case)
    kind, key = difference.kind, difference.key
    layer = spec.spec_says(key) if key is not None else say("a layer")
    if kind == "setting":
        row = spec.rows[key]
        if (row["type"], difference.setting) == ("Conv2D", "strides") and name == "convolutional_block":
            rule = say("strides=(s, s) for conv_name_base + '2a' and conv_name_base + '1', (1, 1) for the others")
        elif (row["type"], difference.setting) == ("Conv2D", "strides"):
            rule = say("every convolution of the identity block has strides (1, 1)")
        elif (row["type"], difference.setting) in SETTING_RULES:
            rule = say(SETTING_RULES[row["type"], difference.setting])
        else:
            rule = say("see the specification")
        return say(
            "the setting {setting} of {layer} differs from the spec's: {rule}",
            setting=difference.setting,
            layer=layer,
            rule=unstopped(rule),
        )
    said = {
        "missing": N_("{layer} is missing"),
        "twice": N_("{layer} is built more than once"),
        "name": N_("{layer} is not built with the type and name the spec gives it"),
        "inputs": N_("{layer} does not take the tensor the spec gives it"),
        "unconnected": N_("{layer} is built, but its output does not reach the block's output"),
        "returns": N_("the block does not return the output of its last ReLU"),
        "extra": N_("the block builds a layer the reference does not have"),
    }
    if kind in said:
        return say(said[kind], layer=layer)
    if spec.rows.get(key, {}).get("type") == "BatchNormalization":
        return unstopped(say(TRAINING_NOT_PASSED, where=""))
    return say("{layer} ignores the `initializer` argument: kernel_initializer=initializer(seed=0)", layer=layer)
