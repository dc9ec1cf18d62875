// rbsm reproduce --profile quick|full --out DIR: runs every registered experiment and writes
// DIR/report.html (figures, and each number of the source documents beside the value measured now).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "cli.hpp"

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/run_folder.hpp"

namespace rbsm::cli {
namespace {

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_report(const std::string& profile, const std::vector<ReportSection>& sections,
                          const std::string& incomplete = "") {
  std::string h =
      "<!doctype html><html><head><meta charset='utf-8'><title>rbsm report</title><style>"
      "body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.45}"
      "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;text-align:left}"
      "th{background:#eee}img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}</style></head><body>"
      "<h1>rbsm reproduction report</h1><p>Profile: <b>" +
      escape(profile) +
      "</b>. Each table puts a number of the source documents beside the value rbsm measures now.</p>";
  if (!incomplete.empty()) h += "<p style='color:#b00;font-weight:bold'>INCOMPLETE: " + escape(incomplete) + "</p>";
  h += "<h2>Contents</h2><ol>";
  for (std::size_t i = 0; i < sections.size(); ++i)
    h += "<li><a href='#s" + std::to_string(i) + "'>" + escape(sections[i].title) + "</a></li>";
  h += "</ol>";
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const auto& s = sections[i];
    h += "<h2 id='s" + std::to_string(i) + "'>" + escape(s.title) + "</h2>" + s.html;
    if (!s.rows.empty()) {
      h += "<table><tr><th>quantity</th><th>source documents</th><th>rbsm (measured)</th><th>note</th></tr>";
      for (const auto& r : s.rows)
        h += "<tr><td>" + escape(r.quantity) + "</td><td>" + escape(r.source) + "</td><td>" + escape(r.measured) +
             "</td><td>" + escape(r.note) + "</td></tr>";
      h += "</table>";
    }
    for (const auto& f : s.figures) h += "<div><img src='" + f + "' alt='" + f + "'></div>";
  }
  return h + "</body></html>\n";
}

/// Wall seconds of each experiment on a fresh 2-core machine (the newcomer's `bash scripts/run.sh`), per profile:
/// the plan's estimates; the remaining time is rescaled by the speed measured on the way. Quick: measured, one
/// `reproduce --profile quick` on the idle 2-core machine on 2026-12-05 (12 min 47 s wall in all, 1201 CPU s user
/// + 262 s system). Full: docs/diffusion.md (mnist); earth and manifold-fit from their parts measured at
/// --threads 1 on 2026-12-05 (docs/fit.md §7-8: 7.5 h of CPU for earth's 80 fits with both corrections, random
/// and by-location splits; 66 min for the first 23 of manifold-fit's 24 fits, and an estimated 1.5 h for the 24th,
/// rb on 20000 torus points, whose RB targets dominate); the others are the quick measurements scaled by the
/// sample counts and training lengths (not measured end to end). An experiment missing here counts as one minute.
struct Estimate {
  const char* name;
  double quick, full;
};
constexpr Estimate kEstimates[] = {
    {"curvature", 1, 3},  {"variance", 4, 200},  {"expansion", 2, 15},       {"equilibrium", 50, 600},
    {"regress", 27, 600}, {"mnist", 216, 3600},  {"anatomy", 63, 900},       {"vae", 51, 1800},
    {"lid", 126, 2400},   {"earth", 174, 27000}, {"manifold-fit", 53, 9000},
};

double estimate_seconds(const std::string& name, const std::string& profile) {
  for (const auto& e : kEstimates)
    if (name == e.name) return profile == "full" ? e.full : e.quick;
  return 60;
}

/// "0.4 s", "42 s", "3.5 min", "1.2 h".
std::string duration(double s) {
  if (s < 10) return fmt(s, 2) + " s";
  if (s < 90) return std::to_string(static_cast<long>(std::lround(s))) + " s";
  if (s < 5400) return fmt(s / 60, 2) + " min";
  return fmt(s / 3600, 2) + " h";
}

/// `s` cut to `width` - 1 characters (an ellipsis marks the cut) and, if `pad`, padded to `width`: a padded
/// cell always ends in a space.
std::string cell(const std::string& s, std::size_t width, bool pad = true) {
  std::string t = s.size() > width - 1 ? s.substr(0, width - 4) + "..." : s;
  return pad ? t + std::string(width - t.size(), ' ') : t;
}

/// The table printed on stdout at the end (without --json): one line per key row of each experiment.
std::string summary_table(const std::string& profile, const std::vector<std::string>& names,
                          const std::vector<ReportSection>& sections, const std::vector<double>& seconds,
                          const std::filesystem::path& report) {
  double total = 0;
  for (double s : seconds) total += s;
  std::string t = "rbsm reproduce --profile " + profile + ": " + std::to_string(sections.size()) +
                  (sections.size() == 1 ? " experiment in " : " experiments in ") + duration(total) + "\n";
  t += cell("experiment", 13) + cell("time", 9) + cell("quantity", 46) + cell("rbsm (measured)", 30) + "source\n";
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const auto& sec = sections[i];
    std::vector<std::size_t> keys = sec.key_rows;
    if (keys.empty() && !sec.rows.empty()) keys.push_back(0);
    if (keys.empty()) t += cell(names[i], 13) + cell(duration(seconds[i]), 9) + "(no table)\n";
    for (std::size_t k = 0; k < keys.size(); ++k) {
      if (keys[k] >= sec.rows.size()) continue;
      const auto& r = sec.rows[keys[k]];
      t += cell(k == 0 ? names[i] : "", 13) + cell(k == 0 ? duration(seconds[i]) : "", 9) + cell(r.quantity, 46) +
           cell(r.measured, 30) + cell(r.source, 40, false) + "\n";
    }
  }
  return t + "Every number, with notes and figures: " + report.string() + "\n";
}

struct ReproduceOptions {
  std::string profile = "quick";
  std::string out = "runs/reproduce";
  std::vector<std::string> only;
};

Register reg(
    "reproduce", "Run every experiment of the source documents and write DIR/report.html",
    [](CLI::App& app, const Common& common) -> Runner {
      auto o = std::make_shared<ReproduceOptions>();
      std::string names;
      for (const auto& e : experiments()) names += (names.empty() ? "" : ", ") + e.name;
      app.add_option("--profile", o->profile,
                     "quick (small models and sample counts; the plan printed first gives the ETA) or full (the "
                     "documents' scale: hours)")
          ->check(CLI::IsMember({"quick", "full"}))
          ->capture_default_str();
      app.add_option("--out", o->out, "output folder (report.html and one sub-folder per experiment)")
          ->capture_default_str();
      app.add_option("--only", o->only, "run only these experiments, comma-separated (" + names + ")")->delimiter(',');
      return [o, &common]() -> json {
        auto list = experiments();
        std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
        for (const auto& name : o->only)
          if (std::none_of(list.begin(), list.end(), [&](const auto& e) { return e.name == name; }))
            throw InvalidArgument("--only: unknown experiment '" + name + "'");
        if (!o->only.empty())
          list.erase(std::remove_if(list.begin(), list.end(),
                                    [&](const auto& e) {
                                      return std::find(o->only.begin(), o->only.end(), e.name) == o->only.end();
                                    }),
                     list.end());
        io::RunFolder run(o->out,
                          {{"command", "reproduce"},
                           {"profile", o->profile},
                           {"seed", common.seed},
                           {"threads", common.threads},
                           {"only", o->only}},
                          io::RunFolder::Placement::in_place);
        run.keep_partial_results();  // finished experiments (trained models) survive a late failure
        ReproduceContext ctx{o->profile, run.dir(), common.seed, common.threads};

        // The plan: experiments in order with their estimated wall time on a fresh 2-core machine.
        std::vector<double> estimate;
        double planned = 0;
        for (const auto& e : list) planned += estimate.emplace_back(estimate_seconds(e.name, o->profile));
        run.log("reproduce --profile " + o->profile + ": " + std::to_string(list.size()) +
                (list.size() == 1 ? " experiment, about " : " experiments, about ") + duration(planned) +
                " on 2 cores (report: " + (run.dir() / "report.html").string() + ")");
        for (std::size_t i = 0; i < list.size(); ++i)
          run.log("  " + std::to_string(i + 1) + ". " + cell(list[i].name, 13) + "about " + duration(estimate[i]));

        std::vector<ReportSection> sections;
        std::vector<std::string> names;
        std::vector<double> seconds;
        json summary = json::object();
        double spent = 0, spent_estimated = 0;
        for (std::size_t i = 0; i < list.size(); ++i) {
          const auto& e = list[i];
          // SIGINT/SIGTERM: stop between experiments (an experiment that trains stops at its next step)
          if (interrupted().load()) throw Error("stopped by a signal before experiment '" + e.name + "'");
          // Remaining time: the estimates scaled by this machine's speed so far.
          double left = 0;
          for (std::size_t j = i; j < list.size(); ++j) left += estimate[j];
          const double speed = spent_estimated > 0 ? std::clamp(spent / spent_estimated, 0.25, 4.0) : 1.0;
          run.log("reproduce [" + std::to_string(i + 1) + "/" + std::to_string(list.size()) + "] " + e.name + " (" +
                  o->profile + "): about " + duration(speed * estimate[i]) + "; about " + duration(speed * left) +
                  " left in all");
          const auto t0 = std::chrono::steady_clock::now();
          try {
            sections.push_back(e.run(ctx));
          } catch (const std::exception& err) {
            run.write_text("report.html", render_report(o->profile, sections,
                                                        (interrupted().load() ? "interrupted" : "failed") +
                                                            std::string(" during experiment '") + e.name +
                                                            "': " + err.what() + ". The sections below are complete."));
            throw;
          }
          const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          spent += secs;
          spent_estimated += estimate[i];
          names.push_back(e.name);
          seconds.push_back(secs);
          summary[e.name] = sections.back().summary;
          summary[e.name]["seconds"] = secs;
          run.log("reproduce [" + std::to_string(i + 1) + "/" + std::to_string(list.size()) + "] " + e.name +
                  " done in " + duration(secs) + " (estimated " + duration(estimate[i]) + ")");
          if (sections.size() < list.size())  // partial report as we go, marked incomplete until the end
            run.write_text("report.html", render_report(o->profile, sections,
                                                        "in progress or stopped: " + std::to_string(sections.size()) +
                                                            " of " + std::to_string(list.size()) +
                                                            " experiments are done (see status.json if the run "
                                                            "stopped). The sections below are complete."));
        }
        run.write_text("report.html", render_report(o->profile, sections));
        run.write_json("summary.json", summary);
        set_human_output(summary_table(o->profile, names, sections, seconds, run.dir() / "report.html"));
        return {{"report", (run.dir() / "report.html").string()}, {"experiments", summary}};
      };
    });

}  // namespace
}  // namespace rbsm::cli
