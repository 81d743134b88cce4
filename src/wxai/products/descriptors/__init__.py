"""Fields and images turned into physically meaningful descriptors, and into words (U6).

- :mod:`~wxai.products.descriptors.fields`: synthetic 10-m wind fields whose answers are
  known (direction, speed, variability, a stronger sector), for tests and training.
- :mod:`~wxai.products.descriptors.captioning`: wind images (``images``) captioned by a ViT.
- :mod:`~wxai.products.descriptors.wind`: wind-field descriptors and their template sentence.
- :mod:`~wxai.products.descriptors.remote_sensing`: measured radar (coverage, dBZ percentiles,
  convective cells) and cloud-top height (coverage above heights, deep convection) descriptors.
"""
