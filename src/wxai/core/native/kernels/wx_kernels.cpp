// wxai native kernels, C++ version.
//
// The functions are declared extern "C": their symbols carry the plain name
// (no C++ name mangling) and follow the C calling convention, so ctypes can
// load them like C functions. Signatures match wx_kernels.f90 exactly:
// arrays are contiguous double pointers with an explicit length n.
#include <cmath>
#include <cstdint>
#include <vector>

namespace {

// Magnus formula over water (Sonntag 1990): e_s = A exp(B t / (C + t)), t in deg C
constexpr double kMagnusA = 6.112;   // hPa
constexpr double kMagnusB = 17.62;   // 1
constexpr double kMagnusC = 243.12;  // deg C

}  // namespace

extern "C" {

// Saturation vapour pressure es[i] [hPa] of each air temperature t[i] [deg C].
void wx_saturation_vapour_pressure(const double* t, double* es, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
        es[i] = kMagnusA * std::exp(kMagnusB * t[i] / (kMagnusC + t[i]));
    }
}

// Inner product sum_i x[i] y[i], accumulated in index order.
double wx_dot(const double* x, const double* y, std::int64_t n) {
    double s = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
        s += x[i] * y[i];
    }
    return s;
}

// y <- a x + y, in place.
void wx_axpy(double a, const double* x, double* y, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
        y[i] = a * x[i] + y[i];
    }
}

// nsteps steps of periodic upwind advection plus centred diffusion; see the
// Fortran version for the scheme. u_in is left untouched; the result goes to u_out.
void wx_advect_diffuse(const double* u_in, double* u_out, std::int64_t n, double courant,
                       double diffusion, std::int64_t nsteps) {
    for (std::int64_t i = 0; i < n; ++i) {
        u_out[i] = u_in[i];
    }
    if (n < 1 || nsteps < 1) {
        return;
    }
    std::vector<double> work(static_cast<std::size_t>(n));
    for (std::int64_t step = 0; step < nsteps; ++step) {
        for (std::int64_t i = 0; i < n; ++i) {
            work[i] = u_out[i];
        }
        for (std::int64_t i = 0; i < n; ++i) {
            const std::int64_t left = (i == 0) ? n - 1 : i - 1;
            const std::int64_t right = (i == n - 1) ? 0 : i + 1;
            u_out[i] = work[i] - courant * (work[i] - work[left]) +
                       diffusion * (work[right] - 2.0 * work[i] + work[left]);
        }
    }
}

}  // extern "C"
