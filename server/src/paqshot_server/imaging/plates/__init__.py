"""Backdrop plates: the product placed on a photograph (the request's ``background_image`` or a plate of the
backdrop library), with a shadow cast from its own matte and its light and colour nudged toward the plate.

One job per module: ``plate`` (what a plate is: tags, floor line, placement area, light), ``geometry`` (the
plate fitted to the output; where the product stands), ``light`` (light direction, softness and floor line
estimated from a plate), ``harmonize`` (the bounded global colour transform of the product layer),
``shadow`` (contact and cast shadow from the matte), ``select`` (which library plate a scene uses), ``seam``
(the optional low-strength inpainting pass around the contact), ``render`` (the engine). ``docs/plates.md``
says what each promises.

Importing this package loads nothing heavy.
"""
