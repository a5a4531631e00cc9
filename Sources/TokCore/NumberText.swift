/// Numbers as text without Foundation, for tables and progress lines.
public enum NumberText {
    /// `v` with exactly `digits` digits after the point, rounded ("12.30"); "?" for infinities and NaN. A value
    /// that rounds to zero has no minus sign.
    public static func fixed(_ v: Double, _ digits: Int) -> String {
        guard v.isFinite else { return "?" }
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        let r = (abs(v) * p).rounded()
        let whole = Int(r / p)
        var frac = String(Int(r) - whole * Int(p))
        while frac.count < digits { frac = "0" + frac }
        return (v < 0 && r != 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + frac : "")
    }
}
