! wxai native kernels, Fortran version.
!
! Every routine has the C binding given by ISO_C_BINDING: its symbol is the
! name in bind(C, name=...), scalars are passed by value, arrays as a pointer
! to the first element plus an explicit length n. Arrays are 1-D, contiguous,
! double precision. The C++ file wx_kernels.cpp exports the same symbols with
! the same signatures, so the Python side drives either library identically.
module wx_kernels
  use, intrinsic :: iso_c_binding, only: c_double, c_int64_t
  implicit none
  private
  public :: wx_saturation_vapour_pressure, wx_dot, wx_axpy, wx_advect_diffuse

  ! Magnus formula over water (Sonntag 1990): e_s = A exp(B t / (C + t)), t in deg C
  real(c_double), parameter :: magnus_a = 6.112_c_double     ! hPa
  real(c_double), parameter :: magnus_b = 17.62_c_double     ! 1
  real(c_double), parameter :: magnus_c = 243.12_c_double    ! deg C

contains

  ! Saturation vapour pressure e_s [hPa] of each air temperature t [deg C].
  subroutine wx_saturation_vapour_pressure(t, es, n) bind(C, name="wx_saturation_vapour_pressure")
    integer(c_int64_t), value, intent(in) :: n
    real(c_double), intent(in) :: t(n)
    real(c_double), intent(out) :: es(n)
    integer(c_int64_t) :: i

    do i = 1, n
      es(i) = magnus_a * exp(magnus_b * t(i) / (magnus_c + t(i)))
    end do
  end subroutine wx_saturation_vapour_pressure

  ! Inner product sum_i x(i) y(i), accumulated in index order.
  function wx_dot(x, y, n) result(s) bind(C, name="wx_dot")
    integer(c_int64_t), value, intent(in) :: n
    real(c_double), intent(in) :: x(n), y(n)
    real(c_double) :: s
    integer(c_int64_t) :: i

    s = 0.0_c_double
    do i = 1, n
      s = s + x(i) * y(i)
    end do
  end function wx_dot

  ! y <- a x + y, in place.
  subroutine wx_axpy(a, x, y, n) bind(C, name="wx_axpy")
    real(c_double), value, intent(in) :: a
    integer(c_int64_t), value, intent(in) :: n
    real(c_double), intent(in) :: x(n)
    real(c_double), intent(inout) :: y(n)
    integer(c_int64_t) :: i

    do i = 1, n
      y(i) = a * x(i) + y(i)
    end do
  end subroutine wx_axpy

  ! nsteps steps of 1-D linear advection (first-order upwind, flow towards
  ! increasing index) plus diffusion (centred second difference) on a periodic
  ! grid: u_i <- u_i - c (u_i - u_{i-1}) + d (u_{i+1} - 2 u_i + u_{i-1}),
  ! with Courant number c = U dt / dx and diffusion number d = K dt / dx**2.
  ! u_in is left untouched; the state after nsteps is written to u_out.
  subroutine wx_advect_diffuse(u_in, u_out, n, courant, diffusion, nsteps) &
      bind(C, name="wx_advect_diffuse")
    integer(c_int64_t), value, intent(in) :: n, nsteps
    real(c_double), value, intent(in) :: courant, diffusion
    real(c_double), intent(in) :: u_in(n)
    real(c_double), intent(out) :: u_out(n)
    real(c_double), allocatable :: work(:)
    integer(c_int64_t) :: i, step, left, right

    u_out = u_in
    if (n < 1 .or. nsteps < 1) return
    allocate(work(n))
    do step = 1, nsteps
      work = u_out
      do i = 1, n
        left = i - 1
        if (left < 1) left = n
        right = i + 1
        if (right > n) right = 1
        u_out(i) = work(i) - courant * (work(i) - work(left)) &
          + diffusion * (work(right) - 2.0_c_double * work(i) + work(left))
      end do
    end do
    deallocate(work)
  end subroutine wx_advect_diffuse

end module wx_kernels
