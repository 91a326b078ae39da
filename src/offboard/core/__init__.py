"""The pure core: facts, policy, matching, planning and rendering.

Nothing here performs I/O, reads the clock or the environment, or knows a wire format.
Every function is a deterministic function of its arguments (see DESIGN.md section 2).
"""
