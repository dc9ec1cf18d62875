// rbsm reproduce --profile quick|full --out DIR: runs every registered experiment and writes
// DIR/report.html (figures, and each number of the source documents beside the value measured now).
#include <algorithm>
#include <chrono>

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

Register reg("reproduce", "Run every experiment of the source documents and write DIR/report.html",
             [](CLI::App& app, const Common& common) -> Runner {
               auto profile = std::make_shared<std::string>("quick");
               auto out = std::make_shared<std::string>("runs/reproduce");
               auto only = std::make_shared<std::vector<std::string>>();
               app.add_option("--profile", *profile, "quick (minutes) or full (about an hour on 2 cores)")
                   ->check(CLI::IsMember({"quick", "full"}))
                   ->capture_default_str();
               app.add_option("--out", *out, "output folder (report.html and one sub-folder per experiment)")
                   ->capture_default_str();
               app.add_option("--only", *only, "run only these experiments (by name)")->delimiter(',');
               return [=, &common]() -> json {
                 auto list = experiments();
                 std::stable_sort(list.begin(), list.end(),
                                  [](const auto& a, const auto& b) { return a.order < b.order; });
                 for (const auto& name : *only)
                   if (std::none_of(list.begin(), list.end(), [&](const auto& e) { return e.name == name; }))
                     throw InvalidArgument("--only: unknown experiment '" + name + "'");
                 io::RunFolder run(*out,
                                   {{"command", "reproduce"},
                                    {"profile", *profile},
                                    {"seed", common.seed},
                                    {"threads", common.threads},
                                    {"only", *only}},
                                   io::RunFolder::Placement::in_place);
                 run.keep_partial_results();  // finished experiments (trained models) survive a late failure
                 ReproduceContext ctx{*profile, run.dir(), common.seed, common.threads};
                 std::vector<ReportSection> sections;
                 json summary = json::object();
                 std::size_t todo = 0;
                 for (const auto& e : list)
                   todo += only->empty() || std::find(only->begin(), only->end(), e.name) != only->end();
                 for (const auto& e : list) {
                   if (!only->empty() && std::find(only->begin(), only->end(), e.name) == only->end()) continue;
                   // SIGINT/SIGTERM: stop between experiments (an experiment that trains stops at its next step)
                   if (interrupted().load()) throw Error("stopped by a signal before experiment '" + e.name + "'");
                   run.log("reproduce: running " + e.name + " (" + *profile + ")");
                   const auto t0 = std::chrono::steady_clock::now();
                   try {
                     sections.push_back(e.run(ctx));
                   } catch (const std::exception& err) {
                     run.write_text("report.html",
                                    render_report(*profile, sections,
                                                  (interrupted().load() ? "interrupted" : "failed") +
                                                      std::string(" during experiment '") + e.name +
                                                      "': " + err.what() + ". The sections below are complete."));
                     throw;
                   }
                   const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                   summary[e.name] = sections.back().summary;
                   summary[e.name]["seconds"] = secs;
                   run.log("reproduce: " + e.name + " done in " + fmt(secs, 3) + " s");
                   if (sections.size() < todo)  // partial report as we go, marked incomplete until the end
                     run.write_text("report.html",
                                    render_report(*profile, sections,
                                                  "in progress or stopped: " + std::to_string(sections.size()) +
                                                      " of " + std::to_string(todo) +
                                                      " experiments are done (see status.json if the run stopped). "
                                                      "The sections below are complete."));
                 }
                 run.write_text("report.html", render_report(*profile, sections));
                 run.write_json("summary.json", summary);
                 return {{"report", (run.dir() / "report.html").string()}, {"experiments", summary}};
               };
             });

}  // namespace
}  // namespace rbsm::cli
