#include "rbsm/anatomy/lid_data.hpp"

#include <cmath>
#include <map>

#include "rbsm/anatomy/lid.hpp"
#include "rbsm/error.hpp"
#include "rbsm/spec.hpp"

namespace rbsm::anatomy {
namespace {

constexpr double kTwoSpheresOffset = 1.2;  // |centre| of each sphere (see the header)

int integer_key(const Spec& s, const std::map<std::string, double>& kv, const std::string& key) {
  const auto it = kv.find(key);
  if (it == kv.end()) throw InvalidArgument("manifold spec '" + s.text + "': missing " + key + "=N");
  const double v = it->second;
  if (!(v >= 1 && v == std::floor(v) && v <= 100000))
    throw InvalidArgument("manifold spec '" + s.text + "': " + key + "=" + std::to_string(v) +
                          ", expected a positive integer");
  return static_cast<int>(v);
}

/// x / |x| for a standard normal x in R^n: uniform on S^{n-1}.
void unit_sphere_point(Rng& rng, double* out, int n) {
  double norm2 = 0;
  do {
    norm2 = 0;
    for (int i = 0; i < n; ++i) {
      out[i] = rng.normal();
      norm2 += out[i] * out[i];
    }
  } while (norm2 == 0);
  const double inv = 1.0 / std::sqrt(norm2);
  for (int i = 0; i < n; ++i) out[i] *= inv;
}

}  // namespace

EmbeddedManifold make_embedded_manifold(const std::string& spec, Rng& rng) {
  const Spec s = Spec::parse(spec);
  EmbeddedManifold m;
  m.spec = spec;
  std::int64_t latent = 0;
  if (s.name == "sphere" || s.name == "torus") {
    const auto kv = s.keyvalues({"d", "D"});
    m.kind = s.name == "sphere" ? EmbeddedManifold::Kind::Sphere : EmbeddedManifold::Kind::Torus;
    m.d = integer_key(s, kv, "d");
    m.D = integer_key(s, kv, "D");
    latent = s.name == "sphere" ? m.d + 1 : 2 * m.d;
    if (m.kind == EmbeddedManifold::Kind::Sphere && m.d >= m.D)
      throw InvalidArgument("manifold spec '" + spec + "': d=" + std::to_string(m.d) + " >= D=" + std::to_string(m.D) +
                            " (S^d needs D >= d + 1)");
    if (m.kind == EmbeddedManifold::Kind::Torus && latent > m.D)
      throw InvalidArgument("manifold spec '" + spec + "': d=" + std::to_string(m.d) +
                            " needs D >= 2d = " + std::to_string(latent) + " (got D=" + std::to_string(m.D) + ")");
    m.label = s.name + ":" + std::to_string(m.d) + " in R^" + std::to_string(m.D);
  } else if (s.name == "two-spheres") {
    const auto kv = s.keyvalues({"d1", "d2", "D"});
    m.kind = EmbeddedManifold::Kind::TwoSpheres;
    m.d = integer_key(s, kv, "d1");
    m.d2 = integer_key(s, kv, "d2");
    m.D = integer_key(s, kv, "D");
    latent = m.d + m.d2 + 2;
    if (latent > m.D)
      throw InvalidArgument("manifold spec '" + spec + "': d1 + d2 + 2 = " + std::to_string(latent) +
                            " > D=" + std::to_string(m.D) + " (the spheres need orthogonal blocks of R^D)");
    m.label = "two-spheres:" + std::to_string(m.d) + "+" + std::to_string(m.d2) + " in R^" + std::to_string(m.D);
  } else {
    throw InvalidArgument("unknown manifold '" + s.name + "' in '" + spec +
                          "', expected sphere:d=N,D=N, torus:d=N,D=N or two-spheres:d1=N,d2=N,D=N");
  }
  m.embedding = random_isometry(m.D, latent, rng);
  return m;
}

Eigen::MatrixXd EmbeddedManifold::sample(std::int64_t n, Rng& rng, std::vector<int>* true_dims) const {
  if (n < 0) throw InvalidArgument("manifold sample: n = " + std::to_string(n) + ", expected >= 0");
  const std::int64_t m = latent_dim();
  Eigen::MatrixXd Z = Eigen::MatrixXd::Zero(m, n);  // latent points, one per column
  if (true_dims) true_dims->assign(static_cast<std::size_t>(n), d);
  for (std::int64_t j = 0; j < n; ++j) {
    double* z = Z.col(j).data();
    switch (kind) {
      case Kind::Sphere:
        unit_sphere_point(rng, z, d + 1);
        break;
      case Kind::Torus:
        for (int i = 0; i < d; ++i) {
          const double th = 2.0 * M_PI * rng.uniform();
          z[2 * i] = std::cos(th);
          z[2 * i + 1] = std::sin(th);
        }
        break;
      case Kind::TwoSpheres: {
        const double c = kTwoSpheresOffset / std::sqrt(2.0);
        if (rng.uniform() < 0.5) {  // S^{d1} in coordinates [0, d1], centred at +c (e_0 + e_{d1+1})
          unit_sphere_point(rng, z, d + 1);
          z[0] += c;
          z[d + 1] += c;
        } else {  // S^{d2} in coordinates [d1+1, d1+d2+1], centred at -c (e_0 + e_{d1+1})
          unit_sphere_point(rng, z + d + 1, d2 + 1);
          z[0] -= c;
          z[d + 1] -= c;
          if (true_dims) (*true_dims)[static_cast<std::size_t>(j)] = d2;
        }
        break;
      }
    }
  }
  return (embedding * Z).transpose();
}

std::vector<std::string> split_manifold_list(const std::string& list) {
  std::vector<std::string> out;
  std::size_t begin = 0;
  for (;;) {
    const auto end = list.find(';', begin);
    std::string item = list.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    const auto a = item.find_first_not_of(" \t"), b = item.find_last_not_of(" \t");
    item = a == std::string::npos ? "" : item.substr(a, b - a + 1);
    if (item.empty()) throw InvalidArgument("manifold list '" + list + "': empty entry (separate specs with ';')");
    out.push_back(item);
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  return out;
}

std::string default_lid_manifolds() {
  return "sphere:d=2,D=10;sphere:d=5,D=50;sphere:d=10,D=100;torus:d=3,D=30;two-spheres:d1=2,d2=6,D=30";
}

}  // namespace rbsm::anatomy
