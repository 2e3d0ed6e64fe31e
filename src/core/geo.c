/*
 * geo.c: haversine distance and a point-to-box lower bound.
 */
#include "geo.h"

#include <math.h>

/* C99 has no M_PI */
#define DEG2RAD (3.14159265358979323846 / 180.0)

bool
geo_valid(double lat, double lon)
{
	return isfinite(lat) && isfinite(lon) &&
		lat >= -90.0 && lat <= 90.0 && lon >= -180.0 && lon <= 180.0;
}

/* sin^2(d/2) of the central angle between two points (the haversine) */
static double
haversine_term(double dlat, double coslat1, double coslat2, double dlon)
{
	double		a = sin(dlat / 2.0);
	double		b = sin(dlon / 2.0);

	return a * a + coslat1 * coslat2 * b * b;
}

static double
central_angle_to_m(double h)
{
	if (h > 1.0)
		h = 1.0;
	if (h < 0.0)
		h = 0.0;
	return 2.0 * GEO_EARTH_RADIUS_M * asin(sqrt(h));
}

double
geo_distance_m(double lat1, double lon1, double lat2, double lon2)
{
	double		p1 = lat1 * DEG2RAD;
	double		p2 = lat2 * DEG2RAD;

	return central_angle_to_m(haversine_term(p2 - p1, cos(p1), cos(p2),
											 (lon2 - lon1) * DEG2RAD));
}

/* the smaller angle in degrees between two longitudes, in [0, 180] */
static double
lon_gap(double a, double b)
{
	double		d = fabs(a - b);

	while (d > 360.0)
		d -= 360.0;
	return d > 180.0 ? 360.0 - d : d;
}

/*
 * What rounding can change in a haversine term: a few 1e-15 (degrees to
 * radians, the differences, sin and cos each off by an ulp or so).  Near
 * the antipode, where asin is steep, that is tens of centimetres.
 */
#define GEO_HAVERSINE_SLACK 1e-14

/*
 * sin^2(d/2) = sin^2(dlat/2) + cos(lat1) cos(lat2) sin^2(dlon/2), and over the
 * box each term is at least its value at the box's smallest latitude gap, its
 * smallest cos(lat2) (cos is concave on [-90, 90], so an endpoint) and its
 * smallest longitude gap; the sum of those minima is a lower bound.  Less
 * GEO_HAVERSINE_SLACK, so that it stays below what geo_distance_m computes
 * for a point of the box (which the match rule uses) despite rounding: an
 * index scan must not miss what a plain scan finds.
 */
double
geo_box_min_distance_m(double lat, double lon, const GeoBox *box)
{
	double		dlat = 0.0;
	double		dlon = 0.0;
	double		cosmin;

	if (lat < box->lat_lo)
		dlat = box->lat_lo - lat;
	else if (lat > box->lat_hi)
		dlat = lat - box->lat_hi;
	if (lon < box->lon_lo || lon > box->lon_hi)
	{
		double		a = lon_gap(lon, box->lon_lo);
		double		b = lon_gap(lon, box->lon_hi);

		dlon = a < b ? a : b;
	}
	if (dlat == 0.0 && dlon == 0.0)
		return 0.0;
	cosmin = cos(box->lat_lo * DEG2RAD);
	if (cos(box->lat_hi * DEG2RAD) < cosmin)
		cosmin = cos(box->lat_hi * DEG2RAD);
	if (cosmin < 0.0)
		cosmin = 0.0;
	return central_angle_to_m(haversine_term(dlat * DEG2RAD, cos(lat * DEG2RAD), cosmin,
											 dlon * DEG2RAD) - GEO_HAVERSINE_SLACK);
}
