/*
 * formula_scopes.h: contract scopes for the formula fuzz targets, shaped
 * like the DEG examples (EV charging, P2P with a grid operator, a market
 * with PROSUMER indexing, a tariff-priced trade) as in test_formula.c.
 * FUZZ_NSCOPES scopes; index 0 is NULL (no scope: a syntax check).
 */
#ifndef DEG_TEST_FORMULA_SCOPES_H
#define DEG_TEST_FORMULA_SCOPES_H

#include "core/formula.h"

static const FormulaField fz_ev_seller[] = {
	{"pricePerKWh", FORMULA_TYPE_NUMBER}, {"currency", FORMULA_TYPE_STRING},
	{"maxPowerKW", FORMULA_TYPE_NUMBER}, {"location", FORMULA_TYPE_OBJECT},
	{"flag", FORMULA_TYPE_BOOLEAN}, {"start", FORMULA_TYPE_DATE_TIME},
	{"wait", FORMULA_TYPE_DURATION}, {"curve", FORMULA_TYPE_OFFER_CURVE},
	{"route", FORMULA_TYPE_ROUTE}, {"x", FORMULA_TYPE_UNKNOWN}
};
static const FormulaScopeRole fz_ev_roles[] = {
	{DEG_ROLE_SELLER, fz_ev_seller, 10}, {DEG_ROLE_BUYER, NULL, 0}
};
static const FormulaField fz_ev_params[] = {
	{"validityWindow.startTime", FORMULA_TYPE_DATE_TIME},
	{"validityWindow.endTime", FORMULA_TYPE_DATE_TIME},
	{"gracePeriodMinutes", FORMULA_TYPE_NUMBER}
};
static const char *const fz_ev_fields[] = {
	"arrivalTime", "chargeStartTime", "chargeEndTime", "energyKWh", "power"
};
static const FormulaScopeSource fz_ev_sources[] = {
	{"cdr-ev-charger-ccs2-001", fz_ev_fields, 5}, {"m", NULL, 0}
};
static const char *const fz_ev_signals[] = {"price-signal", "gridLoad"};

static const FormulaField fz_mkt_mca[] = {
	{"marketMakingFee", FORMULA_TYPE_NUMBER}, {"clearingPrice", FORMULA_TYPE_NUMBER},
	{"clearedPower", FORMULA_TYPE_NUMBER}
};
static const FormulaField fz_mkt_prosumer[] = {
	{"sourceMeterId", FORMULA_TYPE_STRING}, {"offerCurve", FORMULA_TYPE_OFFER_CURVE},
	{"clearedPower", FORMULA_TYPE_NUMBER}, {"fee", FORMULA_TYPE_NUMBER}
};
static const FormulaField fz_mkt_grid[] = {{"wheelingCharges", FORMULA_TYPE_NUMBER}};
static const FormulaScopeRole fz_mkt_roles[] = {
	{DEG_ROLE_MARKET_CLEARING_AGENT, fz_mkt_mca, 3}, {DEG_ROLE_PROSUMER, fz_mkt_prosumer, 4},
	{DEG_ROLE_GRID_OPERATOR, fz_mkt_grid, 1}
};

static const FormulaField fz_tar_seller[] = {
	{"sourceMeterId", FORMULA_TYPE_STRING}, {"tariff", FORMULA_TYPE_OBJECT},
	{"pricePerKWh", FORMULA_TYPE_NUMBER}
};
static const FormulaField fz_tar_buyer[] = {
	{"contractedQuantity", FORMULA_TYPE_NUMBER},
	{"tradeStartTime", FORMULA_TYPE_DATE_TIME}, {"tradeEndTime", FORMULA_TYPE_DATE_TIME}
};
static const FormulaScopeRole fz_tar_roles[] = {
	{DEG_ROLE_SELLER, fz_tar_seller, 3}, {DEG_ROLE_BUYER, fz_tar_buyer, 3}
};
static const FormulaField fz_tar_params[] = {
	{"validityWindow.startTime", FORMULA_TYPE_DATE_TIME},
	{"validityWindow.endTime", FORMULA_TYPE_DATE_TIME},
	{"pricingModel", FORMULA_TYPE_STRING}, {"deliveredQuantity", FORMULA_TYPE_NUMBER},
	{"a", FORMULA_TYPE_NUMBER}, {"b", FORMULA_TYPE_NUMBER}, {"x", FORMULA_TYPE_UNKNOWN}
};

static const FormulaScope fz_scopes[] = {
	{fz_ev_roles, 2, fz_ev_params, 3, fz_ev_signals, 2, fz_ev_sources, 2, false},
	{fz_mkt_roles, 3, NULL, 0, NULL, 0, NULL, 0, false},
	{fz_mkt_roles, 3, NULL, 0, NULL, 0, NULL, 0, true},
	{fz_tar_roles, 2, fz_tar_params, 7, NULL, 0, NULL, 0, false},
	{NULL, 0, fz_tar_params, 7, NULL, 0, NULL, 0, false}
};

#define FUZZ_NSCOPES (1 + (int) (sizeof(fz_scopes) / sizeof(fz_scopes[0])))

static inline const FormulaScope *
fuzz_scope(int i)
{
	return i == 0 ? NULL : &fz_scopes[i - 1];
}

#endif							/* DEG_TEST_FORMULA_SCOPES_H */
