"""The course's autograder: nbgrader's gradebook and feedback, verdicts no submission can forge.

``resnets-grade`` (:mod:`.cli`) grades a class in parallel; :mod:`.grader` runs one batch of
what :mod:`.catalogue` says is graded; :mod:`.sandbox` contains a submission's worker (:mod:`.worker`,
:mod:`.landlock`); :mod:`.verdicts` decides the scores; :mod:`.gradebook` records them for nbgrader.
"""
