// bench_svg.cpp — the sweep chart of `edgellm bench --svg` (see bench_report.h): two stacked
// panels sharing the x axis, every point labelled with its value. Plain SVG 1.1, no scripts.
#include <math.h>
#include <stdio.h>
#include <algorithm>
#include "core/bench/bench_report.h"

static std::string xml_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '<') o += "&lt;";
        else if (c == '>') o += "&gt;";
        else if (c == '&') o += "&amp;";
        else if (c == '"') o += "&quot;";
        else o += c;
    }
    return o;
}

static std::string fmt(const char* f, double v) {
    char b[64];
    snprintf(b, sizeof(b), f, v);
    return b;
}

// A step of 1, 2 or 5 times a power of ten giving about n ticks up to max.
static double nice_step(double max, int n) {
    double raw = max / n, p = pow(10.0, floor(log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

struct Panel {
    std::string title, y_label, value_fmt;
    std::vector<double> y;
};

static void draw_panel(std::string& o, const Panel& p, const std::vector<double>& x, bool log_x,
                       const std::string& x_label, double top) {
    const double left = 80, width = 560, height = 200, bottom = top + height;
    double xmin = *std::min_element(x.begin(), x.end()), xmax = *std::max_element(x.begin(), x.end());
    auto xt = [&](double v) { return log_x ? log(v) : v; };
    double a = xt(xmin), b = xt(xmax);
    auto px = [&](double v) { return b > a ? left + 20 + (xt(v) - a) / (b - a) * (width - 40) : left + width / 2; };
    double ymax = 0;
    for (double v : p.y) if (std::isfinite(v)) ymax = std::max(ymax, v);
    if (ymax <= 0) ymax = 1;
    double step = nice_step(ymax * 1.15, 5), ytop = ceil(ymax * 1.15 / step) * step;
    auto py = [&](double v) { return bottom - v / ytop * height; };

    o += "<text x=\"" + fmt("%.0f", left + width / 2) + "\" y=\"" + fmt("%.0f", top - 12) +
         "\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">" + xml_escape(p.title) + "</text>\n";
    o += "<rect x=\"" + fmt("%.0f", left) + "\" y=\"" + fmt("%.0f", top) + "\" width=\"" + fmt("%.0f", width) +
         "\" height=\"" + fmt("%.0f", height) + "\" fill=\"none\" stroke=\"#444\"/>\n";
    for (double v = 0; v <= ytop + step / 2; v += step) {
        o += "<line x1=\"" + fmt("%.1f", left) + "\" x2=\"" + fmt("%.1f", left + width) + "\" y1=\"" +
             fmt("%.1f", py(v)) + "\" y2=\"" + fmt("%.1f", py(v)) + "\" stroke=\"#ddd\"/>\n";
        o += "<text x=\"" + fmt("%.1f", left - 6) + "\" y=\"" + fmt("%.1f", py(v) + 4) +
             "\" text-anchor=\"end\" font-size=\"11\">" + fmt("%g", v) + "</text>\n";
    }
    for (double v : x) {
        o += "<line x1=\"" + fmt("%.1f", px(v)) + "\" x2=\"" + fmt("%.1f", px(v)) + "\" y1=\"" +
             fmt("%.1f", bottom) + "\" y2=\"" + fmt("%.1f", bottom + 5) + "\" stroke=\"#444\"/>\n";
        o += "<text x=\"" + fmt("%.1f", px(v)) + "\" y=\"" + fmt("%.1f", bottom + 18) +
             "\" text-anchor=\"middle\" font-size=\"11\">" + fmt("%g", v) + "</text>\n";
    }
    o += "<text x=\"" + fmt("%.0f", left + width / 2) + "\" y=\"" + fmt("%.0f", bottom + 36) +
         "\" text-anchor=\"middle\" font-size=\"12\">" + xml_escape(x_label) + "</text>\n";
    o += "<text transform=\"translate(" + fmt("%.0f", left - 52) + "," + fmt("%.0f", top + height / 2) +
         ") rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">" + xml_escape(p.y_label) + "</text>\n";
    std::string pts;
    for (size_t i = 0; i < x.size(); i++)
        if (std::isfinite(p.y[i])) pts += fmt("%.1f", px(x[i])) + "," + fmt("%.1f", py(p.y[i])) + " ";
    if (!pts.empty())
        o += "<polyline points=\"" + pts + "\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n";
    for (size_t i = 0; i < x.size(); i++) {
        if (!std::isfinite(p.y[i])) continue;
        o += "<circle cx=\"" + fmt("%.1f", px(x[i])) + "\" cy=\"" + fmt("%.1f", py(p.y[i])) +
             "\" r=\"4\" fill=\"#1f77b4\"/>\n";
        o += "<text x=\"" + fmt("%.1f", px(x[i])) + "\" y=\"" + fmt("%.1f", py(p.y[i]) - 8) +
             "\" text-anchor=\"middle\" font-size=\"10\">" + fmt(p.value_fmt.c_str(), p.y[i]) + "</text>\n";
    }
}

bool bench_write_svg(const std::string& path, const BenchMeta& m, const std::vector<LevelReport>& levels,
                     std::string* err) {
    if (levels.empty()) { *err = "no level to draw"; return false; }
    std::vector<double> x;
    Panel tps{"Output throughput", "output tokens/s", "%.1f", {}};
    Panel ttft{"Time to first token (p95)", "p95 TTFT (ms)", "%.1f", {}};
    for (const LevelReport& r : levels) {
        x.push_back(m.rate_mode ? r.s.request_rate : (double)r.s.concurrency);
        tps.y.push_back(r.s.ok ? r.s.output_tps : NAN);
        ttft.y.push_back(r.s.ttft.p95 * 1000.0);
    }
    double xmin = *std::min_element(x.begin(), x.end()), xmax = *std::max_element(x.begin(), x.end());
    bool log_x = xmin > 0 && xmax / xmin >= 4;
    std::string x_label = std::string(m.rate_mode ? "request rate (req/s)" : "concurrency (requests in flight)") +
                          (log_x ? ", log scale" : "");
    std::string o = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"680\" height=\"620\" viewBox=\"0 0 680 620\" "
                    "font-family=\"sans-serif\">\n<rect width=\"680\" height=\"620\" fill=\"white\"/>\n";
    o += "<text x=\"340\" y=\"20\" text-anchor=\"middle\" font-size=\"13\">" +
         xml_escape("edgellm bench: " + m.model + " at " + m.endpoint_url) + "</text>\n";
    draw_panel(o, tps, x, log_x, x_label, 60);
    if (m.stream) draw_panel(o, ttft, x, log_x, x_label, 360);
    else o += "<text x=\"340\" y=\"460\" text-anchor=\"middle\" font-size=\"13\">TTFT not measured (--no-stream)</text>\n";
    o += "</svg>\n";
    FILE* f = fopen(path.c_str(), "w");
    if (!f || fwrite(o.data(), 1, o.size(), f) != o.size()) {
        if (f) fclose(f);
        *err = "cannot write " + path;
        return false;
    }
    if (fclose(f) != 0) { *err = "cannot write " + path; return false; }
    return true;
}
