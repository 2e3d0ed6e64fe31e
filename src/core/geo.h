/*
 * geo.h: great-circle distances on the WGS84 mean sphere.
 *
 * Offers and intents carry WGS84 latitude/longitude in degrees; "within a
 * radius" means haversine distance on a sphere of the IUGG mean Earth radius.
 * The index needs a lower bound of the distance from a point to a
 * latitude/longitude box, so that a subtree is skipped only when no point in
 * it can be close enough.
 */
#ifndef DEG_CORE_GEO_H
#define DEG_CORE_GEO_H

#include <stdbool.h>

#define GEO_EARTH_RADIUS_M 6371008.8

/* a latitude/longitude box; lon_lo <= lon_hi (never wraps the antimeridian) */
typedef struct GeoBox
{
	double		lat_lo;
	double		lat_hi;
	double		lon_lo;
	double		lon_hi;
} GeoBox;

extern bool geo_valid(double lat, double lon);

/* haversine distance in metres */
extern double geo_distance_m(double lat1, double lon1, double lat2, double lon2);

/* a lower bound of the distance in metres from a point to any point of box */
extern double geo_box_min_distance_m(double lat, double lon, const GeoBox *box);

#endif							/* DEG_CORE_GEO_H */
