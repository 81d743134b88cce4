"""Maps with packaged coastlines (offline), gridded fields, observations, radar, gazetteer."""

from wxai.viz.coastlines import borders, choose_resolution, coastlines, is_land, land_polygons
from wxai.viz.fields import plot_contours, plot_field, plot_unstructured
from wxai.viz.gazetteer import Place, find_place, label_cities, places_in
from wxai.viz.maps import PROJECTIONS, add_coastlines, make_map
from wxai.viz.points import plot_points
from wxai.viz.quicklook import plot_file
from wxai.viz.radar import plot_radar, radar_cmap

__all__ = [
    "PROJECTIONS",
    "Place",
    "add_coastlines",
    "borders",
    "choose_resolution",
    "coastlines",
    "find_place",
    "is_land",
    "label_cities",
    "land_polygons",
    "make_map",
    "places_in",
    "plot_contours",
    "plot_field",
    "plot_file",
    "plot_points",
    "plot_radar",
    "plot_unstructured",
    "radar_cmap",
]
