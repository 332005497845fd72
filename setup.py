"""Maps the repository's top-level folders onto one import package, ``paymesh``.

``gen/paymesh`` holds the generated contracts (``paymesh.merchant.v1`` ...), ``services/`` the
servers, the command line and their shared infrastructure (``paymesh.services``), ``jobs/`` the
scheduler process (``paymesh.jobs``).
"""

from setuptools import find_packages, setup

ROOTS = {"paymesh": "gen/paymesh", "paymesh.services": "services", "paymesh.jobs": "jobs"}


def _packages() -> tuple[list[str], dict[str, str]]:
    packages: list[str] = []
    package_dir: dict[str, str] = {}
    for name, folder in ROOTS.items():
        package_dir[name] = folder
        packages.append(name)
        packages += [f"{name}.{sub}" for sub in find_packages(folder)]
    return packages, package_dir


packages, package_dir = _packages()
setup(packages=packages, package_dir=package_dir, include_package_data=True,
      package_data={"paymesh": ["descriptor.binpb"], "paymesh.services": ["**/*.ini", "**/*.mako"]})
