"""Per-customer predictions of the reference library on CDNOW, for clv's tests."""
import os

from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

here = os.path.dirname(os.path.abspath(__file__))
data = load_cdnow_summary_data_with_monetary_value()
bgf = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
repeat = data[data["frequency"] > 0]
ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
out = data.copy()
out["p_alive"] = bgf.conditional_probability_alive(data["frequency"], data["recency"], data["T"])
for weeks in (4, 13, 52):
    out[f"purchases_{weeks}w"] = bgf.conditional_expected_number_of_purchases_up_to_time(
        weeks, data["frequency"], data["recency"], data["T"])
out["order_value"] = ggf.conditional_expected_average_profit(data["frequency"], data["monetary_value"])
with open(os.path.join(here, "cdnow_lifetimes.csv"), "w") as f:
    f.write("# bgnbd " + " ".join(f"{k}={v:.9g}" for k, v in bgf.params_.items()) + "\n")
    f.write("# gamma_gamma " + " ".join(f"{k}={v:.9g}" for k, v in ggf.params_.items()) + "\n")
    out[["frequency", "recency", "T", "monetary_value", "p_alive", "purchases_4w", "purchases_13w",
         "purchases_52w", "order_value"]].to_csv(f, float_format="%.10g")
