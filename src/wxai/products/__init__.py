"""Weather products on model fields: fronts (:mod:`wxai.products.fronts`) and warning
regions (:mod:`wxai.products.warnings`), with the formats other systems take."""
