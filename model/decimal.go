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

// Percent formats a ratio as a percentage for prose: 0.005 -> "0.5%".
func Percent(ratio float64) string { return Decimal(ratio*100) + "%" }
