"""The course's autograder: nbgrader's gradebook and feedback, verdicts no submission can forge.

``resnets-grade`` (:mod:`.cli`) grades a class in parallel; :mod:`.grader` runs one batch of
what :mod:`.catalogue` says is graded; :mod:`.engines` run the jobs here or on a Dask cluster;
:mod:`.sandbox` contains a submission's worker (Landlock, seccomp, its own user);
:mod:`.verdicts` decides the scores; :mod:`.gradebook` records them for nbgrader.
"""
