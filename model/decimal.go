package model

import (
	"math"
	"strconv"
)

// significantDigits bounds how many digits a generated threshold keeps:
// enough for any objective a person writes, few enough that float noise
// (0.07200000000000001) never reaches a rule file.
const significantDigits = 12

// Clean rounds away binary floating-point noise, so 14.4 x 0.005 is 0.072.
func Clean(x float64) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', significantDigits, 64), 64)
	return v
}

// Decimal formats x as the shortest plain decimal after Clean: "0.072", "14.4", "1".
func Decimal(x float64) string {
	return strconv.FormatFloat(Clean(x), 'f', -1, 64)
}

// Percent formats a ratio as a percentage for prose, to four significant
// digits: 0.005 -> "0.5%", 0.93055... -> "93.06%".
func Percent(ratio float64) string {
	return strconv.FormatFloat(Clean(ratio*100), 'g', 4, 64) + "%"
}

// PercentAbove formats the smallest two-decimal percentage at or above
// ratio, for advice such as "use an objective above 93.06%" that must hold
// once followed.
func PercentAbove(ratio float64) string {
	return Decimal(math.Ceil(Clean(ratio*10000))/100) + "%"
}
