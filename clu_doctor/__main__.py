"""``python -m clu_doctor`` runs the same command line as the ``clu-doctor`` script."""

from clu_doctor.cli import main

if __name__ == "__main__":
    main()
